// The only module that talks to the Rust side. Every command rejects with the core's error
// body {code, message, field?}; anything else thrown is normalized into that shape.

import { toErrorBody } from './lib/status.js';

const tauri = globalThis.window?.__TAURI__;

async function invoke(cmd, args) {
  if (!tauri) throw toErrorBody({ code: 'internal', message: 'Skydeck must run inside its app window.' });
  try {
    return await tauri.core.invoke(cmd, args);
  } catch (e) {
    throw toErrorBody(e);
  }
}

export const api = {
  listProviders: () => invoke('list_providers'),
  testConnection: (provider, fields) => invoke('test_connection', { provider, fields }),
  addCloud: (cloud) => invoke('add_cloud', { cloud }),
  listClouds: () => invoke('list_clouds'),
  updateCloud: (id, { title = null, enabled = null } = {}) => invoke('update_cloud', { id, title, enabled }),
  removeCloud: (id) => invoke('remove_cloud', { id }),
  listMachines: () => invoke('list_machines'),
  refresh: (cloud = null) => invoke('refresh', { cloud }),
  machineAction: (machine, action) => invoke('machine_action', { machine, action }),
  rename: (machine, name) => invoke('rename', { machine, name }),
  setTags: (machine, tags) => invoke('set_tags', { machine, tags }),
  /** Copies text to the clipboard (the app may write it, never read it). */
  copyText: (text) => invoke('plugin:clipboard-manager|write_text', { text }),
};

/** UI preferences (columns, sort, chips, sidebar width) in tauri-plugin-store; never secrets. */
export const prefs = {
  _store: null,
  _loading: null,
  /** Loads the store once; later calls share the first load. */
  load() {
    this._loading ??= (async () => {
      try {
        this._store = await tauri.store.load('ui-prefs.json', { defaults: {}, autoSave: 400 });
      } catch (e) {
        console.warn('preferences unavailable', e);
      }
      return this;
    })();
    return this._loading;
  },
  async get(key, fallback) {
    if (!this._store) return fallback;
    try {
      const v = await this._store.get(key);
      return v === undefined || v === null ? fallback : v;
    } catch {
      return fallback;
    }
  },
  set(key, value) {
    this._store?.set(key, value).catch((e) => console.warn('could not save preference', key, e));
  },
};
