import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChanges, markStale, replaceCloud, offlineStatus, refreshProgress } from '../../ui/lib/live.js';

const m = (id, state = 'running', cloud = 'c1') => ({ id, cloud_id: cloud, name: `vm-${id}`, state });

test('changes are applied in place: changed keep their row, added come last, removed go', () => {
  const before = [m('1'), m('2'), m('3'), m('1', 'running', 'c2')];
  const after = applyChanges(before, [
    { kind: 'changed', machine: m('2', 'stopped'), previous_state: 'running' },
    { kind: 'added', machine: m('4', 'pending') },
    { kind: 'removed', cloud_id: 'c1', id: '1', name: 'vm-1' },
  ]);
  assert.deepEqual(after.map((x) => `${x.cloud_id}/${x.id}:${x.state}`), ['c1/2:stopped', 'c1/3:running', 'c2/1:running', 'c1/4:pending']);
  assert.equal(before[1].state, 'running', 'the old list is not mutated');
  assert.equal(applyChanges(before, []), before, 'no changes: the same array (no redraw)');
  assert.equal(applyChanges(before, undefined), before);
  // Added twice (a repeated event) does not duplicate; the same id in another cloud is another machine.
  const twice = applyChanges(before, [{ kind: 'added', machine: m('3', 'stopped') }]);
  assert.equal(twice.length, 4);
  assert.equal(twice[2].state, 'stopped');
});

test('a failed refresh marks its cloud stale, a good one clears it, others untouched', () => {
  const list = [m('1'), m('2', 'running', 'c2')];
  const stale = markStale(list, 'c1', true);
  assert.deepEqual(stale.map((x) => Boolean(x.stale)), [true, false]);
  assert.equal(markStale(stale, 'c1', true), stale, 'nothing new: same array');
  assert.deepEqual(markStale(stale, 'c1', false).map((x) => Boolean(x.stale)), [false, false]);
});

test('a cloud is replaced with its new status only when it differs', () => {
  const clouds = [{ id: 'a', status: { error: null } }, { id: 'b', status: { error: null } }];
  assert.equal(replaceCloud(clouds, { id: 'a', status: { error: null } }), clouds);
  assert.equal(replaceCloud(clouds, { id: 'zz', status: {} }), clouds, 'unknown (removed) cloud: ignored');
  assert.equal(replaceCloud(clouds, null), clouds);
  const next = replaceCloud(clouds, { id: 'b', status: { error: { code: 'unavailable' } } });
  assert.notEqual(next, clouds);
  assert.equal(next[1].status.error.code, 'unavailable');
});

test('offline only when every enabled cloud is unreachable; last seen is the latest success', () => {
  const c = (code, last_ok, enabled = true) => ({ enabled, status: { error: code ? { code, message: '' } : null, last_ok } });
  assert.deepEqual(offlineStatus([]), { offline: false, lastSeen: null }, 'no clouds: not offline');
  const two = [c('unavailable', '2024-05-01T10:00:00Z'), c('unavailable', '2024-05-02T09:00:00Z')];
  assert.deepEqual(offlineStatus(two), { offline: true, lastSeen: '2024-05-02T09:00:00Z' });
  assert.equal(offlineStatus([...two, c(null, '2024-05-03T00:00:00Z')]).offline, false, 'one cloud answers');
  assert.equal(offlineStatus([...two, c('unauthenticated', null)]).offline, false, 'a refusal is not a network problem');
  assert.equal(offlineStatus([...two, c(null, null, false)]).offline, true, 'disabled clouds do not count');
  assert.equal(offlineStatus([c('unavailable', null)]).lastSeen, null);
});

test('a refresh request is done once every awaited cloud reported', () => {
  let w = new Set(['a', 'b']);
  w = refreshProgress(w, 'a');
  assert.deepEqual([...w], ['b']);
  w = refreshProgress(w, 'zz');
  assert.equal(w.size, 1);
  assert.equal(refreshProgress(w, 'b').size, 0);
});
