// Wires the Rust side's live refresh to the window: each `inventory-changed` event (one cloud
// refreshed in the background) is applied incrementally — no re-fetch of everything — and
// `machine-updated` (an action from the tray) updates one row. Also keeps the pins and the
// offline flag. Events emitted by `app`: pins, offline (plus the usual machines/clouds/refresh).

import { api, listen } from './api.js';
import { applyChanges, markStale, replaceCloud, offlineStatus, refreshProgress } from './lib/live.js';
import { machineKey } from './lib/machines.js';
import { toast } from './views/toast.js';

const REFRESH_TIMEOUT = 90_000;

/** Subscribes before the first read of the cache, so no refresh is missed. */
export async function startLive(app) {
  app.pins = new Set();
  app.offline = false;
  app.lastSeen = null;
  app.waiting = new Set();

  await Promise.all([
    listen('inventory-changed', (ev) => onRefreshed(app, ev)),
    listen('machine-updated', (m) => app.upsertMachine(m)),
    // The tray's "New machine…": whichever view offers the create wizard listens for this.
    listen('open-wizard', () => app.emit('open-wizard')),
  ]).catch((e) => console.warn('live refresh events unavailable', e));

  app.addEventListener('clouds', () => updateOffline(app));
  try {
    app.pins = new Set(await api.listPins());
    app.emit('pins');
  } catch (e) {
    console.warn('pins unavailable', e);
  }
}

function onRefreshed(app, ev) {
  const root = globalThis.document?.documentElement;
  if (root) root.dataset.liveEvents = String(Number(root.dataset.liveEvents ?? 0) + 1);
  const clouds = replaceCloud(app.clouds, ev.cloud);
  let machines = applyChanges(app.machines, ev.changes);
  machines = markStale(machines, ev.cloud_id, Boolean(ev.error));
  if (clouds !== app.clouds) app.setClouds(clouds);
  if (machines !== app.machines) app.setMachines(machines);
  if (!ev.error) app.lastUpdated = Date.now();
  if (app.refreshing && app.waiting.size) {
    app.waiting = refreshProgress(app.waiting, ev.cloud_id);
    if (app.waiting.size === 0) finishRefresh(app);
  }
  app.emit('refresh');
}

function updateOffline(app) {
  const { offline, lastSeen } = offlineStatus(app.clouds);
  // Before the first refresh of this run answers, the list is as fresh as the cache.
  if (!app.lastUpdated && lastSeen) {
    app.lastUpdated = Date.parse(lastSeen);
    app.emit('refresh');
  }
  if (offline === app.offline && lastSeen === app.lastSeen) return;
  app.offline = offline;
  app.lastSeen = lastSeen;
  app.emit('offline');
  // Action buttons read `app.offline`.
  app.emit('details');
  app.emit('selection');
}

function finishRefresh(app) {
  clearTimeout(app._refreshTimer);
  app.refreshing = false;
  app.waiting = new Set();
  app.emit('refresh');
}

/** "Refresh now": asks the Rust side; done when every enabled cloud has reported. */
export async function refreshNow(app) {
  if (app.refreshing) return;
  const enabled = app.clouds.filter((c) => c.enabled !== false).map((c) => c.id);
  if (!enabled.length) return;
  app.waiting = new Set(enabled);
  app.refreshing = true;
  app.emit('refresh');
  clearTimeout(app._refreshTimer);
  app._refreshTimer = setTimeout(() => finishRefresh(app), REFRESH_TIMEOUT);
  try {
    await api.refreshNow();
  } catch (e) {
    finishRefresh(app);
    toast(`Refresh failed: ${e.message}`, 'error');
  }
}

/** Pins or unpins a machine in the tray menu. */
export async function togglePin(app, m) {
  const key = machineKey(m);
  const pinned = app.pins.has(key);
  try {
    app.pins = new Set(pinned ? await api.unpinMachine(key) : await api.pinMachine(key));
    app.emit('pins');
    toast(pinned ? `'${m.name || m.id}' is no longer in the tray menu.` : `'${m.name || m.id}' is pinned to the tray menu.`);
  } catch (e) {
    toast(`Could not ${pinned ? 'unpin' : 'pin'} '${m.name || m.id}': ${e.message}`, 'error');
  }
}
