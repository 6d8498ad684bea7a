// The Activity page: every create and machine action Skydeck ran, newest first, with its
// result and, for failures, the error in words.
import { h, replace } from '../lib/dom.js';
import { activityRows } from '../lib/activity.js';
import { api } from '../api.js';

const LIMIT = 500;
let root = null;

export async function showActivity(el) {
  root = el;
  await load(false);
}

async function load(busy) {
  const refresh = h('button', { type: 'button', class: ['btn', busy && 'busy'], id: 'activity-refresh', text: 'Refresh', on: { click: () => load(true) } });
  const head = h('header', { class: 'page-head' }, h('h1', { text: 'Activity' }), h('span', { class: 'spacer' }), refresh);
  let body;
  try {
    const [entries, keys] = await Promise.all([api.activity(LIMIT), api.listKeys().catch(() => [])]);
    body = entries.length ? table(activityRows(entries, { keys })) : h('div', { class: 'page-empty' }, h('p', { text: 'Nothing yet. Creates and actions on machines (start, stop, reboot, destroy, rename, tags) are recorded here with their result.' }));
  } catch (e) {
    body = h('p', { class: 'form-error banner', role: 'alert', text: `Could not read the activity log: ${e.message}` });
  }
  if (!root?.isConnected) return;
  replace(root, head, h('p', { class: 'muted page-intro', text: `The latest ${LIMIT} entries, newest first. Kept on this computer.` }), body);
}

function table(rows) {
  return h('table', { class: 'data-table activity-table', id: 'activity-table' },
    h('thead', {}, h('tr', {}, ['When', 'Cloud', 'Machine', 'Action', 'Result'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, rows.map((r) => h('tr', { dataset: { result: r.result, id: r.id } },
      h('td', { class: 'nowrap', title: r.whenTitle, text: r.when }),
      h('td', { text: r.cloud }),
      h('td', { title: r.machineId, text: r.machine }),
      h('td', {}, h('span', { class: 'activity-action', text: r.action }), r.detail ? h('div', { class: 'muted small', text: r.detail }) : null),
      h('td', { class: 'activity-result' },
        h('span', { class: ['result-badge', `result-${r.result}`], text: r.result === 'ok' ? 'OK' : 'Failed' }),
        r.error ? h('div', { class: 'activity-error', text: r.error }) : null)))));
}
