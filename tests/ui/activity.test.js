import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeDocument, textNodes } from './dom-stub.js';
import { activityRows, actionLabel, shortTime } from '../../ui/lib/activity.js';
import { reviewSummary, imageLabel, sizeSpecs } from '../../ui/lib/wizard.js';

globalThis.document = makeDocument();
const { h } = await import('../../ui/lib/dom.js');
const PAYLOAD = '<img src=x onerror=alert(1)>';

test('activity rows: newest first, results and errors in words', () => {
  const entries = [
    { id: 1, at: '2024-05-01T10:00:00Z', cloud_id: 'c', cloud_title: 'work', machine_id: 'i-1', machine_name: 'web-1', action: 'create', detail: 'location a, size b', result: 'ok', error: null },
    { id: 3, at: '2024-05-01T11:00:00Z', cloud_id: 'c', cloud_title: '', machine_id: null, machine_name: null, action: 'force_off', detail: null, result: 'error', error: { code: 'conflict', message: 'it is stopped' } },
    { id: 2, at: '2024-05-01T10:30:00Z', cloud_id: 'c', cloud_title: 'work', machine_id: 'i-2', machine_name: '', action: 'stop', detail: null, result: 'ok', error: null },
  ];
  const rows = activityRows(entries, { locale: 'en-GB', now: Date.parse('2024-05-01T12:00:00Z') });
  assert.deepEqual(rows.map((r) => r.id), [3, 2, 1]);
  assert.deepEqual(rows.map((r) => r.action), ['Force off', 'Stop', 'Create']);
  assert.deepEqual(rows.map((r) => r.machine), ['—', 'i-2', 'web-1']);
  assert.equal(rows[0].cloud, 'c', 'falls back to the cloud id when the title is empty');
  assert.deepEqual([rows[0].result, rows[0].error], ['error', 'it is stopped']);
  assert.deepEqual([rows[2].result, rows[2].error, rows[2].detail], ['ok', '', 'location a, size b']);
  assert.equal(actionLabel(''), '');
  const id = '73a24920-4786-4677-8dfc-ef328d61a653';
  const withKey = [{ ...entries[0], detail: `size b, key ${id}` }, { ...entries[1], detail: 'key 00000000-0000-4000-8000-000000000000' }];
  const named = activityRows(withKey, { keys: [{ id, name: 'laptop' }] });
  assert.deepEqual(named.map((r) => r.detail), ['key 00000000-0000-4000-8000-000000000000', 'size b, key laptop'], 'known keys by name, deleted ones by id');
  const now = new Date(2024, 4, 1, 12, 0).getTime();
  assert.match(shortTime(new Date(2024, 4, 1, 9, 5).getTime(), now, 'en-GB'), /^09:05$/);
  assert.match(shortTime(new Date(2024, 0, 7, 9, 5).getTime(), now, 'en-GB'), /^7 Jan 09:05$/);
  assert.match(shortTime(new Date(2022, 0, 7).getTime(), now, 'en-GB'), /2022/);
});

test('catalog strings from a cloud are rendered as text, never markup', () => {
  const image = { id: PAYLOAD, name: PAYLOAD, distribution: PAYLOAD, version: '1', arch: 'x86_64', locations: [] };
  const size = { id: 's', name: PAYLOAD, vcpus: 1, ram_mb: 1024, disk_gb: 1, price_hourly: 0.01, price_monthly: null, locations: [] };
  const loc = { id: 'l', name: PAYLOAD, country: PAYLOAD, available: true };
  const state = { cloudId: 'c', location: 'l', size: 's', image: PAYLOAD, keyId: null, name: 'n', tags: [{ key: PAYLOAD, value: PAYLOAD }], userData: '' };
  const rows = reviewSummary(state, { cloud: { title: PAYLOAD, provider: 'p' }, provider: { title: PAYLOAD, capabilities: { key_delivery: 'inline' } }, cat: { locations: [loc], sizes: [size], images: [image] }, keys: [] });
  const el = h('dl', {}, rows.map((r) => [h('dt', { text: r.label }), h('dd', {}, r.value)]), h('span', {}, imageLabel(image), sizeSpecs(size)));
  const texts = textNodes(el).map((t) => t.data).join('\n');
  assert.ok(texts.includes(`${PAYLOAD} (${PAYLOAD})`), 'cloud title shown verbatim');
  assert.ok(texts.includes(`${PAYLOAD}=${PAYLOAD}`), 'tags shown verbatim');
  const elements = (n) => (n.nodeType === 1 ? [n, ...n.childNodes.flatMap(elements)] : []);
  assert.deepEqual([...new Set(elements(el).map((e) => e.tagName))].sort(), ['DD', 'DL', 'DT', 'SPAN'], 'no element came from a string');
});
