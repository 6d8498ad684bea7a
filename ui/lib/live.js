// Live refresh as data: how one `inventory-changed` event (one cloud refreshed in the
// background by the Rust side) changes the window's lists, and when the app counts as offline.
// Pure functions, tested with node; ui/live.js wires them to the events.

import { machineKey } from './machines.js';

/**
 * Applies one refresh's changes ({kind: 'added'|'changed', machine} or {kind: 'removed',
 * cloud_id, id}) to the machine list. Returns the same array when nothing changed, so callers
 * can skip redrawing; otherwise a new array in which changed machines keep their place and
 * added ones come last.
 */
export function applyChanges(machines, changes) {
  if (!changes?.length) return machines;
  const out = machines.slice();
  const index = new Map(out.map((m, i) => [machineKey(m), i]));
  const removed = new Set();
  for (const c of changes) {
    if (c.kind === 'added' || c.kind === 'changed') {
      const k = machineKey(c.machine);
      removed.delete(k);
      if (index.has(k)) out[index.get(k)] = c.machine;
      else {
        index.set(k, out.length);
        out.push(c.machine);
      }
    } else if (c.kind === 'removed') {
      removed.add(`${c.cloud_id}/${c.id}`);
    }
  }
  return removed.size ? out.filter((m) => !removed.has(machineKey(m))) : out;
}

/**
 * Marks the machines of one cloud stale (its refresh failed: they are the last-known copy) or
 * fresh again. Same array back when no flag changes.
 */
export function markStale(machines, cloudId, stale) {
  let changed = false;
  const out = machines.map((m) => {
    if (m.cloud_id !== cloudId || Boolean(m.stale) === stale) return m;
    changed = true;
    return { ...m, stale };
  });
  return changed ? out : machines;
}

/** Replaces one cloud (with its new status) in the list; same array back when unchanged. */
export function replaceCloud(clouds, cloud) {
  if (!cloud) return clouds;
  const i = clouds.findIndex((c) => c.id === cloud.id);
  if (i === -1) return clouds;
  if (JSON.stringify(clouds[i]) === JSON.stringify(cloud)) return clouds;
  return clouds.map((c, j) => (j === i ? cloud : c));
}

/** Error codes that mean "cannot reach it" rather than "it refused". */
const UNREACHABLE = new Set(['unavailable']);

/**
 * Offline: every enabled cloud's latest refresh failed because it could not be reached.
 * `lastSeen` is the latest successful refresh of any of them (ISO) or null.
 */
export function offlineStatus(clouds) {
  const enabled = (clouds ?? []).filter((c) => c.enabled !== false);
  const offline = enabled.length > 0 && enabled.every((c) => UNREACHABLE.has(c.status?.error?.code));
  const seen = enabled.map((c) => c.status?.last_ok).filter(Boolean).sort();
  return { offline, lastSeen: seen.length ? seen[seen.length - 1] : null };
}

/** Why actions are disabled while offline (the tooltip of every action button). */
export const OFFLINE_REASON = 'Offline: no cloud can be reached, so actions are paused. The list shows the machines as last seen.';

/**
 * A "Refresh now" is done when every cloud that was asked has reported since. `waiting` is the
 * set of cloud ids still awaited; returns the set left after `cloudId` reported.
 */
export function refreshProgress(waiting, cloudId) {
  const left = new Set(waiting);
  left.delete(cloudId);
  return left;
}
