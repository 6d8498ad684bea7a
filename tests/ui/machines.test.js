import { test } from 'node:test';
import assert from 'node:assert/strict';
import { machineKey, filterMachines, sortMachines, stateCounts, visibleRange, ipSortKey, COLUMNS, tagList, fitColumns, minWidth, CHECK_WIDTH } from '../../ui/lib/machines.js';

const clouds = { c1: 'work', c2: 'home lab' };
const ctx = { cloudTitle: (id) => clouds[id] ?? id };
const m = (id, name, state, extra = {}) => ({
  id, name, state, cloud_id: 'c1', provider: 'acme', raw_state: state, location: '', size: '', image: '',
  public_ips: [], private_ips: [], tags: {}, created_at: null, stale: false, actions: [], extra: {}, ...extra,
});

const machines = [
  m('i-1', 'web-10', 'running', { public_ips: ['203.0.113.10'], tags: { env: 'prod', role: 'web' }, created_at: '2024-03-01T00:00:00Z' }),
  m('i-2', 'web-9', 'stopped', { public_ips: ['203.0.113.9'], tags: { env: 'staging' }, created_at: '2023-01-01T00:00:00Z' }),
  m('i-3', 'db', 'running', { cloud_id: 'c2', private_ips: ['10.0.0.5'], tags: { backup: '' }, location: 'eu-1' }),
  m('i-4', '<img src=x onerror=alert(1)>', 'pending', { cloud_id: 'c2' }),
];
const names = (list) => list.map((x) => x.name);

test('keys are unique across clouds', () => {
  assert.equal(machineKey(machines[0]), 'c1/i-1');
  assert.notEqual(machineKey({ cloud_id: 'a', id: 'x' }), machineKey({ cloud_id: 'b', id: 'x' }));
});

test('the filter box matches name, IP, tag and cloud; every word must match', () => {
  const f = (query) => names(filterMachines(machines, { query }, ctx));
  assert.deepEqual(f('web'), ['web-10', 'web-9']);
  assert.deepEqual(f('203.0.113.9'), ['web-9']);
  assert.deepEqual(f('10.0.0'), ['db']);
  assert.deepEqual(f('env=prod'), ['web-10']);
  assert.deepEqual(f('backup'), ['db']);
  assert.deepEqual(f('home'), ['db', '<img src=x onerror=alert(1)>']);
  assert.deepEqual(f('web prod'), ['web-10']);
  assert.deepEqual(f('WEB   STAGING'), ['web-9']);
  assert.deepEqual(f('nothing-like-this'), []);
  assert.deepEqual(f('onerror'), ['<img src=x onerror=alert(1)>']);
});

test('state and cloud chips restrict; empty chip sets do not', () => {
  assert.deepEqual(names(filterMachines(machines, { states: new Set(['running']) }, ctx)), ['web-10', 'db']);
  assert.deepEqual(names(filterMachines(machines, { clouds: new Set(['c2']) }, ctx)), ['db', '<img src=x onerror=alert(1)>']);
  assert.deepEqual(names(filterMachines(machines, { states: new Set(['running']), clouds: new Set(['c1']) }, ctx)), ['web-10']);
  assert.equal(filterMachines(machines, { states: new Set(), clouds: new Set() }, ctx).length, 4);
});

test('sorting: names naturally, states by lifecycle, IPs numerically, created by date, both directions', () => {
  assert.deepEqual(names(sortMachines(machines, { key: 'name', dir: 'asc' }, ctx)), ['<img src=x onerror=alert(1)>', 'db', 'web-9', 'web-10']);
  assert.deepEqual(names(sortMachines(machines, { key: 'name', dir: 'desc' }, ctx)), ['web-10', 'web-9', 'db', '<img src=x onerror=alert(1)>']);
  assert.deepEqual(names(sortMachines(machines, { key: 'state' }, ctx)), ['db', 'web-10', '<img src=x onerror=alert(1)>', 'web-9']);
  assert.deepEqual(names(sortMachines(machines, { key: 'public_ips' }, ctx)).slice(0, 2), ['web-9', 'web-10']);
  assert.deepEqual(names(sortMachines(machines, { key: 'created', dir: 'desc' }, ctx)).slice(0, 2), ['web-10', 'web-9']);
  assert.deepEqual(names(sortMachines(machines, { key: 'cloud' }, ctx)).slice(0, 2), ['<img src=x onerror=alert(1)>', 'db']);
  // Sorting returns a copy.
  assert.equal(machines[0].name, 'web-10');
});

test('every column can sort', () => {
  for (const c of COLUMNS) {
    const asc = sortMachines(machines, { key: c.key, dir: 'asc' }, ctx);
    assert.equal(asc.length, machines.length, c.key);
  }
});

test('IPv4 sort keys are numeric; no IP sorts last', () => {
  assert.ok(ipSortKey(['9.0.0.1']) < ipSortKey(['10.0.0.1']));
  assert.ok(ipSortKey(['2001:db8::1']) > ipSortKey(['255.255.255.255']));
  assert.ok(ipSortKey([]) > ipSortKey(['2001:db8::1']));
  assert.deepEqual(tagList({ a: '1', b: '' }), ['a=1', 'b']);
});

test('state counts follow the lifecycle order', () => {
  assert.deepEqual(stateCounts(machines), [
    { state: 'running', count: 2 }, { state: 'pending', count: 1 }, { state: 'stopped', count: 1 },
  ]);
});

test('the virtual window draws only the rows in view, plus overscan', () => {
  assert.deepEqual(visibleRange(0, 340, 34, 10_000, 6), { start: 0, end: 17 });
  const mid = visibleRange(34 * 5000, 340, 34, 10_000, 6);
  assert.deepEqual(mid, { start: 4994, end: 5017 });
  assert.ok(mid.end - mid.start < 30);
  assert.deepEqual(visibleRange(34 * 10_000, 340, 34, 10_000, 6), { start: 9994, end: 10_000 });
  assert.deepEqual(visibleRange(-50, 340, 34, 3, 6), { start: 0, end: 3 });
  assert.deepEqual(visibleRange(0, 340, 34, 0), { start: 0, end: 0 });
});

test('filtering and sorting 10,000 machines stays well under a frame budget per keystroke', () => {
  const many = Array.from({ length: 10_000 }, (_, i) => m(`i-${i}`, `node-${i}`, i % 3 ? 'running' : 'stopped', {
    cloud_id: i % 2 ? 'c1' : 'c2', public_ips: [`198.51.${(i >> 8) & 255}.${i & 255}`], tags: { team: `t${i % 40}` },
  }));
  const hay = new Map();
  filterMachines(many, { query: 'x' }, ctx, hay); // builds the haystack cache once
  const t0 = performance.now();
  const hits = filterMachines(many, { query: 'node-99 t19' }, ctx, hay);
  const sorted = sortMachines(hits, { key: 'public_ips' }, ctx);
  const ms = performance.now() - t0;
  assert.ok(sorted.length > 0 && sorted.every((x) => x.name.startsWith('node-99') && x.tags.team === 't19'));
  assert.ok(ms < 100, `took ${ms.toFixed(1)} ms`);
});

test('default columns fit the window: least important dropped first, never name or state', () => {
  const all = COLUMNS.map((c) => c.key);
  assert.deepEqual(fitColumns(all, 5000), all);
  const at1024 = fitColumns(all, 1024 - 220 - 5);
  assert.ok(!at1024.includes('private_ips') && !at1024.includes('image'), at1024.join());
  for (const k of ['state', 'name', 'cloud', 'public_ips']) assert.ok(at1024.includes(k), k);
  const width = (ks) => CHECK_WIDTH + ks.reduce((s, k) => s + minWidth(COLUMNS.find((c) => c.key === k)), 0);
  assert.ok(width(at1024) <= 1024 - 220 - 5);
  const tiny = fitColumns(all, 100);
  assert.deepEqual(tiny, ['state', 'name', 'cloud', 'public_ips']);
});
