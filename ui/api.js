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
  /** {detected: [{provider, title, fields}], demo: {…} | null} */
  detectLocalHosts: () => invoke('detect_local_hosts'),
  addDetectedHost: (host) => invoke('add_detected_host', { host }),
  listMachines: () => invoke('list_machines'),
  refresh: (cloud = null) => invoke('refresh', { cloud }),
  machineAction: (machine, action) => invoke('machine_action', { machine, action }),
  rename: (machine, name) => invoke('rename', { machine, name }),
  setTags: (machine, tags) => invoke('set_tags', { machine, tags }),
  // SSH keys. The private half never comes back: export writes it to a file picked in a
  // native save dialog and resolves with that path (null when the user cancelled).
  listKeys: () => invoke('list_keys'),
  generateKey: (name) => invoke('generate_key', { name }),
  importKey: (key) => invoke('import_key', { key }),
  setDefaultKey: (id) => invoke('set_default_key', { id }),
  renameKey: (id, name) => invoke('rename_key', { id, name }),
  deleteKey: (id) => invoke('delete_key', { id }),
  exportPrivateKey: (id, passphrase = null) => invoke('export_private_key', { id, passphrase }),
  // The create wizard: catalogs from the cache (refresh = ask the provider), check, create,
  // then follow the machine; onProgress(progress) sees each new state.
  catalog: (cloud, kind, refresh = false) => invoke('catalog', { cloud, kind, refresh }),
  checkCreate: (cloud, request) => invoke('check_create', { cloud, request }),
  createMachine: (cloud, request) => invoke('create_machine', { cloud, request }),
  waitRunning: (cloud, id, onProgress, timeoutSecs = null) => {
    const channel = new tauri.core.Channel();
    channel.onmessage = onProgress;
    return invoke('wait_running', { cloud, id, timeout_secs: timeoutSecs, on_progress: channel });
  },
  activity: (limit = null, cloud = null) => invoke('activity', { limit, cloud }),
  /** Live refresh: every enabled cloud now; results arrive as `inventory-changed` events. */
  refreshNow: () => invoke('refresh_now'),
  /** Tray pins as `<cloud id>/<machine id>` keys; pin/unpin return them all. */
  listPins: () => invoke('list_pins'),
  pinMachine: (machine) => invoke('pin_machine', { machine }),
  unpinMachine: (machine) => invoke('unpin_machine', { machine }),
  getSettings: () => invoke('get_settings'),
  saveSettings: (settings) => invoke('save_settings', { settings }),
  /** Copies text to the clipboard (the app may write it, never read it). */
  copyText: (text) => invoke('plugin:clipboard-manager|write_text', { text }),
};

/** Subscribes to an event from the Rust side (`fn` gets its payload); resolves to unlisten. */
export function listen(event, fn) {
  if (!tauri?.event) return Promise.resolve(() => {});
  return tauri.event.listen(event, (e) => fn(e.payload));
}

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
