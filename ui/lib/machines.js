// The machine list as data: keys, columns, search, filters and sorting. Pure functions, so
// node's test runner checks them and the table view only draws what they return.

/** A machine's unique key across clouds (also the `machine` argument of the commands). */
export const machineKey = (m) => `${m.cloud_id}/${m.id}`;

export const STATE_ORDER = ['running', 'pending', 'starting', 'rebooting', 'stopping', 'stopped', 'suspended', 'error', 'unknown', 'terminated'];

/** Columns of the table. `text(m, ctx)` is what the cell shows and what the column sorts by
 * (unless `sortKey` says otherwise). */
export const COLUMNS = [
  { key: 'state', label: 'State', width: '108px', text: (m) => m.state, sortKey: (m) => STATE_ORDER.indexOf(m.state) },
  { key: 'name', label: 'Name', width: 'minmax(120px, 1.6fr)', text: (m) => m.name || m.id },
  { key: 'cloud', label: 'Cloud', width: 'minmax(100px, 1.1fr)', text: (m, ctx) => ctx.cloudTitle(m.cloud_id) },
  { key: 'location', label: 'Location', width: 'minmax(88px, 1fr)', text: (m) => m.location },
  { key: 'size', label: 'Size', width: 'minmax(76px, .8fr)', text: (m) => m.size },
  { key: 'image', label: 'Image', width: 'minmax(92px, 1fr)', text: (m) => m.image },
  { key: 'public_ips', label: 'Public IP', width: 'minmax(118px, 1fr)', text: (m) => (m.public_ips ?? []).join(', '), sortKey: (m) => ipSortKey(m.public_ips) },
  { key: 'private_ips', label: 'Private IP', width: 'minmax(118px, 1fr)', text: (m) => (m.private_ips ?? []).join(', '), sortKey: (m) => ipSortKey(m.private_ips) },
  { key: 'tags', label: 'Tags', width: 'minmax(92px, 1.1fr)', text: (m) => tagList(m.tags).join(', ') },
  { key: 'created', label: 'Created', width: '96px', text: (m) => (m.created_at ?? '').slice(0, 10), sortKey: (m) => m.created_at ?? '' },
];

/** Width of the selection checkbox column. */
export const CHECK_WIDTH = 40;

/** The narrowest a column gets (its px minimum). */
export function minWidth(col) {
  return parseInt(/(\d+)px/.exec(col.width)?.[1] ?? '80', 10);
}

/** Columns dropped first when the default set does not fit the window. */
const DROP_ORDER = ['private_ips', 'image', 'created', 'size', 'location', 'tags'];

/**
 * The default columns that fit `available` px without horizontal scrolling, dropping the
 * least important first (used until the user picks columns).
 */
export function fitColumns(keys, available) {
  const cols = keys.filter((k) => COLUMNS.some((c) => c.key === k));
  const total = (ks) => CHECK_WIDTH + ks.reduce((s, k) => s + minWidth(COLUMNS.find((c) => c.key === k)), 0);
  for (const drop of DROP_ORDER) {
    if (total(cols) <= available) break;
    const i = cols.indexOf(drop);
    if (i !== -1) cols.splice(i, 1);
  }
  return cols;
}

export const DEFAULT_COLUMNS = COLUMNS.map((c) => c.key);

export function tagList(tags) {
  return Object.entries(tags ?? {}).map(([k, v]) => (v === '' ? k : `${k}=${v}`));
}

/** IPv4 addresses sort numerically; others after them, as text. Empty lists last. */
export function ipSortKey(ips) {
  const ip = (ips ?? [])[0];
  if (!ip) return '\uffff';
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (!m) return `1${ip}`;
  return `0${m.slice(1).map((n) => n.padStart(3, '0')).join('.')}`;
}

/** The lowercase text a filter query is matched against: name, id, IPs, tags, cloud, location. */
export function haystack(m, ctx) {
  return [
    m.name, m.id, ...(m.public_ips ?? []), ...(m.private_ips ?? []), ...tagList(m.tags),
    ctx.cloudTitle(m.cloud_id), m.location,
  ].join('\n').toLowerCase();
}

/**
 * Machines that pass the filter box (every whitespace-separated word must occur), the state
 * chips and the cloud chips (empty set = no restriction). `hay` caches haystacks by key.
 */
export function filterMachines(machines, { query = '', states = new Set(), clouds = new Set() }, ctx, hay = new Map()) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return machines.filter((m) => {
    if (states.size && !states.has(m.state)) return false;
    if (clouds.size && !clouds.has(m.cloud_id)) return false;
    if (!words.length) return true;
    const key = machineKey(m);
    let text = hay.get(key);
    if (text === undefined) hay.set(key, (text = haystack(m, ctx)));
    return words.every((w) => text.includes(w));
  });
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/** A sorted copy. Ties are broken by name, then key, so the order is stable across refreshes. */
export function sortMachines(machines, { key = 'name', dir = 'asc' } = {}, ctx) {
  const col = COLUMNS.find((c) => c.key === key) ?? COLUMNS[1];
  const get = col.sortKey ?? ((m) => col.text(m, ctx) ?? '');
  const sign = dir === 'desc' ? -1 : 1;
  const keyed = machines.map((m) => ({ m, k: get(m, ctx), n: m.name ?? '', id: machineKey(m) }));
  keyed.sort((a, b) => {
    const c = typeof a.k === 'number' && typeof b.k === 'number' ? a.k - b.k : collator.compare(String(a.k), String(b.k));
    return sign * c || collator.compare(a.n, b.n) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  });
  return keyed.map((x) => x.m);
}

/** Counts per state, for the state chips, in display order. */
export function stateCounts(machines) {
  const counts = new Map();
  for (const m of machines) counts.set(m.state, (counts.get(m.state) ?? 0) + 1);
  return STATE_ORDER.filter((s) => counts.has(s)).map((s) => ({ state: s, count: counts.get(s) }));
}

/**
 * The rows a virtualized list must draw: [start, end) for a viewport `height` px tall
 * scrolled to `scrollTop`, with `overscan` extra rows above and below.
 */
export function visibleRange(scrollTop, height, rowHeight, count, overscan = 6) {
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, first + Math.ceil(Math.max(0, height) / rowHeight) + overscan + 1);
  return { start: Math.min(start, end), end };
}
