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

/**
 * UI preferences (columns, sort, chips, sidebar width); never secrets. Kept by the Rust side in
 * one fixed file with an allowlist of keys (get_ui_prefs/set_ui_pref): the webview has no store
 * permission, so it cannot name a file. Read once; set() updates the copy here and saves.
 */
export const prefs = {
  _values: {},
  _loading: null,
  /** Loads the preferences once; later calls share the first load. */
  load() {
    this._loading ??= (async () => {
      try {
        this._values = (await invoke('get_ui_prefs')) ?? {};
      } catch (e) {
        console.warn('preferences unavailable', e);
      }
      return this;
    })();
    return this._loading;
  },
  async get(key, fallback) {
    const v = this._values[key];
    return v === undefined || v === null ? fallback : v;
  },
  set(key, value) {
    this._values[key] = value;
    invoke('set_ui_pref', { key, value }).catch((e) => console.warn('could not save preference', key, e.message ?? e));
  },
};
