import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ACTIONS, actionButtons, bulkActions, destroyConfirmed, parseTags, formatTags } from '../../ui/lib/actions.js';

const m = (name, state, actions) => ({ id: `id-${name}`, cloud_id: 'c', name, state, actions });

test('buttons come only from the actions the machine allows, in a fixed order', () => {
  const running = m('web', 'running', ['destroy', 'tag', 'stop', 'reboot', 'rename']);
  assert.deepEqual(actionButtons(running).map((b) => b.action), ['stop', 'reboot', 'rename', 'tag', 'destroy']);
  const stopped = m('web', 'stopped', ['start', 'destroy']);
  assert.deepEqual(actionButtons(stopped).map((b) => b.action), ['start', 'destroy']);
  assert.deepEqual(actionButtons(m('gone', 'terminated', [])), []);
  // Unknown action names from a newer core are ignored rather than drawn blank.
  assert.deepEqual(actionButtons(m('x', 'running', ['teleport', 'stop'])).map((b) => b.action), ['stop']);
});

test('destroy is marked dangerous and needs the name typed; all buttons disable while an action runs', () => {
  const b = actionButtons(m('web', 'running', ['stop', 'destroy']));
  const destroy = b.find((x) => x.action === 'destroy');
  assert.equal(destroy.danger, true);
  assert.equal(destroy.confirmByName, true);
  assert.ok(b.every((x) => !x.disabled));
  assert.ok(actionButtons(m('web', 'running', ['stop', 'destroy']), 'stop').every((x) => x.disabled));
});

test('bulk actions: start/stop/reboot, each with the machines that allow it', () => {
  const sel = [m('a', 'running', ['stop', 'reboot', 'destroy']), m('b', 'stopped', ['start', 'destroy']), m('c', 'running', ['stop'])];
  const bulk = bulkActions(sel);
  assert.deepEqual(bulk.map((b) => [b.action, b.machines.map((x) => x.name)]), [
    ['start', ['b']], ['stop', ['a', 'c']], ['reboot', ['a']],
  ]);
  assert.ok(!bulk.some((b) => b.action === 'destroy'), 'destroy is never a bulk action');
  assert.deepEqual(bulkActions([m('t', 'terminated', [])]), []);
});

test('destroy confirmation needs the exact name', () => {
  const x = m('<img src=x onerror=alert(1)>', 'running', ['destroy']);
  assert.equal(destroyConfirmed(x, '<img src=x onerror=alert(1)>'), true);
  assert.equal(destroyConfirmed(x, '<img src=x>'), false);
  assert.equal(destroyConfirmed(x, ''), false);
  assert.equal(destroyConfirmed({ id: 'i-1', name: '' }, 'i-1'), true);
  assert.equal(destroyConfirmed({ id: 'i-1', name: 'web' }, 'WEB'), false);
});

test('the tag editor parses key=value lines and reports bad ones', () => {
  assert.deepEqual(parseTags('env=prod\n\n role = web \nbackup\nurl=http://x/?a=b'), {
    tags: { env: 'prod', role: 'web', backup: '', url: 'http://x/?a=b' }, errors: [],
  });
  assert.deepEqual(parseTags('=oops').errors, ["line 1: a tag needs a key before '='"]);
  assert.equal(formatTags({ env: 'prod', backup: '' }), 'env=prod\nbackup');
  assert.deepEqual(parseTags(formatTags({ a: '1', b: '' })).tags, { a: '1', b: '' });
});

test('suspend, resume and power off get buttons in a fixed order; power off asks first', () => {
  const m = { actions: ['destroy', 'force_off', 'suspend', 'stop', 'reboot'] };
  assert.deepEqual(actionButtons(m).map((b) => b.action), ['stop', 'suspend', 'reboot', 'force_off', 'destroy']);
  assert.ok(ACTIONS.force_off.confirm && ACTIONS.force_off.danger);
  assert.deepEqual(actionButtons({ actions: ['resume', 'destroy'] }).map((b) => b.label), ['Resume', 'Destroy…']);
  // Not offered in bulk: they are rarer and (power off) need a confirmation each.
  assert.deepEqual(bulkActions([{ actions: ['suspend', 'force_off'] }]), []);
});
