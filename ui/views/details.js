// The details side panel of one machine: every field, IPs with copy buttons, tags, the raw
// state, and the actions its provider allows in its current state.
import { h, replace, logo } from '../lib/dom.js';
import { ACTIONS, actionButtons, destroyConfirmed, parseTags, formatTags, runningLabel } from '../lib/actions.js';
import { machineKey } from '../lib/machines.js';
import { app } from '../app.js';
import { api } from '../api.js';
import { confirmDialog, promptDialog, typeToConfirm } from './dialogs.js';
import { toast } from './toast.js';
import { togglePin } from '../live.js';
import { OFFLINE_REASON } from '../lib/live.js';

export function createDetails(root) {
  const draw = () => {
    const m = app.detailsKey ? app.machinesByKey.get(app.detailsKey) : null;
    root.hidden = !m;
    document.body.classList.toggle('details-open', Boolean(m));
    if (!m) return replace(root);
    const focused = root.contains(document.activeElement) ? document.activeElement?.dataset?.action : null;
    const cloud = app.ctx.cloud(m.cloud_id);
    const provider = app.ctx.provider(m.provider);
    const pending = app.pending.get(machineKey(m));
    const buttons = actionButtons(m, pending).map((b) => h('button', {
      type: 'button', class: ['btn', 'btn-small', b.danger && 'btn-danger'], dataset: { action: b.action },
      disabled: b.disabled || app.offline, title: app.offline ? OFFLINE_REASON : null,
      on: { click: () => act(m, b.action) },
    }, b.label));
    replace(root,
      h('div', { class: 'details-head' },
        h('h2', { class: 'details-title', id: 'details-title', text: m.name || m.id }),
        pinButton(m),
        h('button', { type: 'button', class: 'btn btn-ghost', id: 'details-close', 'aria-label': 'Close details', text: '×', on: { click: () => app.openDetails(null) } })),
      h('div', { class: 'details-state' },
        h('span', { class: 'state-badge', dataset: { state: pending ? 'busy' : m.state }, text: pending ? runningLabel(pending) : m.state }),
        h('span', { class: 'muted', text: `raw: ${m.raw_state}` })),
      m.stale ? h('p', { class: 'stale-note', role: 'note', text: `Last known state: ${cloud?.status?.error?.message ?? 'the last refresh of this cloud failed.'}` }) : null,
      buttons.length ? h('div', { class: 'details-actions', role: 'group', 'aria-label': 'Actions' }, buttons)
        : h('p', { class: 'muted small', text: 'No actions are possible in this state.' }),
      section('Machine', [
        ['Cloud', h('span', { class: 'with-logo' }, logo(provider ?? { title: m.provider }, 16), h('span', { text: cloud?.title ?? m.cloud_id }))],
        ['Provider', provider?.title ?? m.provider],
        ['ID', h('span', { class: 'mono', text: m.id })],
        ['Location', m.location],
        ['Size', m.size],
        ['Image', m.image],
        ['Created', m.created_at ? new Date(m.created_at).toLocaleString() : ''],
        ['State', m.state],
        ['Raw state', h('span', { class: 'mono', text: m.raw_state })],
      ]),
      h('section', { class: 'details-section' }, h('h3', { text: 'IP addresses' }),
        ipList('Public', m.public_ips), ipList('Private', m.private_ips)),
      h('section', { class: 'details-section' }, h('h3', { text: 'Tags' }),
        Object.keys(m.tags ?? {}).length
          ? h('ul', { class: 'tags' }, Object.entries(m.tags).map(([k, v]) => h('li', { class: 'tag' }, h('span', { class: 'tag-key', text: k }), v === '' ? null : h('span', { class: 'tag-value', text: v }))))
          : h('p', { class: 'muted small', text: 'No tags.' })),
      Object.keys(m.extra ?? {}).length ? section('Provider details', Object.entries(m.extra).map(([k, v]) => [k, h('span', { class: 'mono', text: v })])) : null);
    if (focused) root.querySelector(`[data-action="${CSS.escape(focused)}"]`)?.focus();
  };
  app.on('details pending clouds pins', draw);
  draw();
}

/** Pins the machine to the tray menu, or unpins it. */
function pinButton(m) {
  const pinned = app.pins.has(machineKey(m));
  return h('button', {
    type: 'button', class: 'btn btn-small pin-toggle', id: 'details-pin', 'aria-pressed': String(pinned),
    title: pinned ? 'Remove from the tray menu' : 'Show in the tray menu with its quick actions',
    text: pinned ? '★ Pinned' : '☆ Pin to tray', on: { click: () => togglePin(app, m) },
  });
}

function section(title, rows) {
  return h('section', { class: 'details-section' }, h('h3', { text: title }),
    h('dl', { class: 'kv' }, rows.filter(([, v]) => v !== '' && v !== null && v !== undefined).flatMap(([k, v]) => [h('dt', { text: k }), h('dd', {}, v)])));
}

function ipList(label, ips) {
  if (!ips?.length) return h('ul', { class: 'ips', 'aria-label': `${label} IPs` }, h('li', {}, h('span', { class: 'ip-kind', text: label }), h('span', { class: 'muted', text: 'none' })));
  return h('ul', { class: 'ips', 'aria-label': `${label} IPs` }, ips.map((ip) => h('li', {},
    h('span', { class: 'ip-kind', text: label }),
    h('span', { class: 'mono ip', text: ip }),
    h('button', {
      type: 'button', class: 'btn btn-small copy', 'aria-label': `Copy ${ip}`, text: 'Copy',
      on: {
        click: async (e) => {
          try {
            await api.copyText(ip);
            e.target.textContent = 'Copied';
            setTimeout(() => { e.target.textContent = 'Copy'; }, 1500);
          } catch (err) {
            toast(`Could not copy: ${err.message}`, 'error');
          }
        },
      },
    }))));
}

async function act(m, action) {
  if (action === 'rename') {
    return promptDialog({ title: 'Rename machine', label: 'New name', value: m.name, save: (name) => app.renameMachine(m, name) });
  }
  if (action === 'tag') {
    return promptDialog({
      title: `Tags of ${m.name || m.id}`, label: 'One tag per line: key=value', value: formatTags(m.tags), multiline: true,
      help: 'The machine gets exactly these tags: lines you remove are removed from the machine.',
      save: async (text) => {
        const { tags, errors } = parseTags(text);
        if (errors.length) throw new Error(errors.join('; '));
        await app.setTags(m, tags);
      },
    });
  }
  if (ACTIONS[action]?.confirm) {
    const ok = await confirmDialog({
      title: `${ACTIONS[action].label.replace('…', '')} '${m.name || m.id}'?`,
      message: ACTIONS[action].confirm, confirmLabel: ACTIONS[action].label.replace('…', ''), danger: true,
    });
    if (!ok) return;
  }
  if (action === 'destroy') {
    const expected = m.name || m.id;
    const ok = await typeToConfirm({
      title: `Destroy '${expected}'?`,
      message: 'The machine and its disks are deleted at the provider. This cannot be undone.',
      expected, confirmLabel: 'Destroy machine', check: (typed) => destroyConfirmed(m, typed),
    });
    if (!ok) return;
  }
  return app.runAction([m], action);
}
