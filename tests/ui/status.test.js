import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cloudStatus, relativeTime, nextRefreshDelay, toErrorBody, plural } from '../../ui/lib/status.js';

const view = (status, enabled = true) => ({ id: 'c', title: 'work', enabled, status: { machine_count: 0, ...status } });

test('status dot: ok, stale with reason, auth error, disabled, never refreshed', () => {
  assert.equal(cloudStatus(view({ last_ok: new Date().toISOString() })).kind, 'ok');
  const stale = cloudStatus(view({ last_ok: '2024-01-01T00:00:00Z', error: { code: 'unavailable', message: 'EC2 had a server error (503).' } }));
  assert.deepEqual([stale.kind, stale.reason], ['stale', 'EC2 had a server error (503).']);
  assert.equal(cloudStatus(view({ error: { code: 'unauthenticated', message: 'rejected' } })).kind, 'auth');
  assert.equal(cloudStatus(view({ error: { code: 'keychain', message: 'locked' } })).kind, 'auth');
  assert.equal(cloudStatus(view({}, false)).kind, 'disabled');
  assert.equal(cloudStatus(view({})).kind, 'new');
});

test('relative times', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  assert.equal(relativeTime('2024-05-01T11:59:58Z', now), 'just now');
  assert.equal(relativeTime('2024-05-01T11:59:18Z', now), '42 s ago');
  assert.equal(relativeTime('2024-05-01T11:55:00Z', now), '5 min ago');
  assert.equal(relativeTime('2024-05-01T09:00:00Z', now), '3 h ago');
  assert.equal(relativeTime('2024-04-29T12:00:00Z', now), '2 d ago');
  assert.equal(relativeTime('garbage', now), 'never');
});

test('refresh faster while machines change or actions run, slower after failures', () => {
  assert.equal(nextRefreshDelay({}), 30_000);
  assert.equal(nextRefreshDelay({ transitioning: true }), 5_000);
  assert.equal(nextRefreshDelay({ pendingActions: 2 }), 5_000);
  assert.equal(nextRefreshDelay({ failed: true }), 60_000);
});

test('errors crossing IPC keep code/message/field; anything else is wrapped', () => {
  assert.deepEqual(toErrorBody({ code: 'invalid_input', message: 'bad', field: 'endpoint' }), { code: 'invalid_input', message: 'bad', field: 'endpoint' });
  assert.deepEqual(toErrorBody('Command x not allowed by ACL'), { code: 'internal', message: 'Command x not allowed by ACL' });
});

test('counts are pluralized', () => {
  assert.equal(plural(1, 'machine'), '1 machine');
  assert.equal(plural(0, 'machine'), '0 machines');
  assert.match(plural(2, 'cloud'), /^2 clouds$/);
});
