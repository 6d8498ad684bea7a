// The window's state and the operations on it. Views read `app` and listen for its events;
// they never call the backend themselves. Events: clouds, machines, view, selection, details,
// pending, refresh.

import { api, prefs } from './api.js';
import { machineKey, DEFAULT_COLUMNS, COLUMNS } from './lib/machines.js';
import { plural } from './lib/status.js';
import { refreshNow } from './live.js';
import { toast } from './views/toast.js';

class App extends EventTarget {
  providers = [];
  providersById = new Map();
  clouds = [];
  cloudsById = new Map();
  machines = [];
  machinesByKey = new Map();
  view = { query: '', states: new Set(), clouds: new Set(), sort: { key: 'name', dir: 'asc' }, columns: [...DEFAULT_COLUMNS], columnsAuto: true };
  selection = new Set();
  detailsKey = null;
  /** Machine key → action running on it. */
  pending = new Map();
  lastUpdated = null;
  refreshing = false;
  loaded = false;
  /** Pinned machine keys, offline flag and last-seen time: kept by live.js. */
  pins = new Set();
  offline = false;

  /** What the pure list functions need to know about clouds. */
  ctx = {
    cloudTitle: (id) => this.cloudsById.get(id)?.title ?? id,
    cloud: (id) => this.cloudsById.get(id),
    provider: (id) => this.providersById.get(id),
  };

  emit(name) {
    this.dispatchEvent(new Event(name));
  }

  on(names, fn) {
    for (const n of names.split(/\s+/)) this.addEventListener(n, fn);
  }

  async start() {
    await prefs.load();
    const [cols, sort, states, clouds] = await Promise.all([
      prefs.get('columns', null), prefs.get('sort', null), prefs.get('stateChips', []), prefs.get('cloudChips', []),
    ]);
    if (Array.isArray(cols) && cols.length) {
      this.view.columns = cols.filter((c) => COLUMNS.some((x) => x.key === c));
      this.view.columnsAuto = false;
    }
    if (sort?.key) this.view.sort = { key: sort.key, dir: sort.dir === 'desc' ? 'desc' : 'asc' };
    this.view.states = new Set(states);
    this.view.clouds = new Set(clouds);
    try {
      this.providers = await api.listProviders();
      this.providersById = new Map(this.providers.map((p) => [p.id, p]));
      await this.reload();
    } catch (e) {
      toast(`Could not read the local inventory: ${e.message}`, 'error');
    }
    this.loaded = true;
    this.emit('view');
    // No refresh here: the first paint is the cache, and the Rust side's live refresher is
    // already refreshing every cloud; its results arrive as events (live.js).
  }

  /** Re-reads clouds and cached machines (no network). */
  async reload() {
    // Counted on the root element (diagnostics; the e2e tests check live changes need none).
    const root = globalThis.document?.documentElement;
    if (root) root.dataset.fullReads = String(Number(root.dataset.fullReads ?? 0) + 1);
    const [clouds, machines] = await Promise.all([api.listClouds(), api.listMachines()]);
    this.setClouds(clouds);
    this.setMachines(machines);
  }

  setClouds(clouds) {
    this.clouds = clouds;
    this.cloudsById = new Map(clouds.map((c) => [c.id, c]));
    // Chips of removed clouds would hide everything.
    for (const id of this.view.clouds) if (!this.cloudsById.has(id)) this.view.clouds.delete(id);
    this.emit('clouds');
  }

  setMachines(machines) {
    this.machines = machines;
    this.machinesByKey = new Map(machines.map((m) => [machineKey(m), m]));
    for (const k of this.selection) if (!this.machinesByKey.has(k)) this.selection.delete(k);
    this.emit('machines');
    this.emit('details');
  }

  /** Machines of enabled clouds (a disabled cloud's machines are hidden, not forgotten). */
  shownMachines() {
    return this.machines.filter((m) => this.cloudsById.get(m.cloud_id)?.enabled !== false);
  }

  upsertMachine(m) {
    const key = machineKey(m);
    const i = this.machines.findIndex((x) => machineKey(x) === key);
    if (i === -1) this.machines = [...this.machines, m];
    else this.machines = this.machines.map((x, j) => (j === i ? m : x));
    this.machinesByKey.set(key, m);
    this.emit('machines');
    this.emit('details');
  }

  /** "Refresh now": the live refresher refreshes every enabled cloud; changes arrive as events. */
  refresh() {
    return refreshNow(this);
  }

  /** Kept for callers: the pace of refreshes is the live refresher's (Rust side) now. */
  scheduleRefresh() {}

  setView(patch) {
    Object.assign(this.view, patch);
    if ('sort' in patch) prefs.set('sort', this.view.sort);
    if ('columns' in patch) {
      this.view.columnsAuto = false;
      prefs.set('columns', this.view.columns);
    }
    if ('states' in patch) prefs.set('stateChips', [...this.view.states]);
    if ('clouds' in patch) prefs.set('cloudChips', [...this.view.clouds]);
    this.emit('view');
  }

  setSelection(keys) {
    this.selection = new Set(keys);
    this.emit('selection');
  }

  openDetails(key) {
    this.detailsKey = key;
    this.emit('details');
  }

  /** Runs start/stop/reboot/destroy on machines; each row shows the running action. */
  async runAction(machines, action) {
    await Promise.all(
      machines.map(async (m) => {
        const key = machineKey(m);
        if (this.pending.has(key)) return;
        this.pending.set(key, action);
        this.emit('pending');
        try {
          const updated = await api.machineAction(key, action);
          this.upsertMachine(updated);
        } catch (e) {
          toast(`${action} '${m.name || m.id}' failed: ${e.message}`, 'error');
        } finally {
          this.pending.delete(key);
          this.emit('pending');
        }
      }),
    );
  }

  async renameMachine(m, name) {
    const key = machineKey(m);
    this.pending.set(key, 'rename');
    this.emit('pending');
    try {
      this.upsertMachine(await api.rename(key, name));
    } finally {
      this.pending.delete(key);
      this.emit('pending');
    }
  }

  async setTags(m, tags) {
    const key = machineKey(m);
    this.pending.set(key, 'tag');
    this.emit('pending');
    try {
      this.upsertMachine(await api.setTags(key, tags));
    } finally {
      this.pending.delete(key);
      this.emit('pending');
    }
  }

  async cloudAdded(cloud) {
    await this.reload();
    try {
      const [outcome] = await api.refresh(cloud.id);
      if (outcome?.error) toast(`Added '${cloud.title}', but listing its machines failed: ${outcome.error.message}`, 'error');
      else toast(`Added '${cloud.title}': ${plural(outcome?.machine_count ?? 0, 'machine')}.`);
    } catch (e) {
      toast(`Added '${cloud.title}', but refreshing it failed: ${e.message}`, 'error');
    }
    await this.reload();
    this.lastUpdated = Date.now();
    this.emit('refresh');
  }

  async updateCloud(id, patch) {
    await api.updateCloud(id, patch);
    await this.reload();
    if (patch.enabled === true) this.refresh();
  }

  async removeCloud(id) {
    const removed = await api.removeCloud(id);
    await this.reload();
    toast(`Removed '${removed.title}' and its cached machines.`);
  }
}

export const app = new App();
