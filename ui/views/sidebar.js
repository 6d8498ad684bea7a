// The sidebar: every cloud with its logo, title, status dot and machine count; "Add cloud";
// per-cloud menu to rename, disable/enable, refresh or remove it.
import { h, logo, replace } from '../lib/dom.js';
import { cloudStatus } from '../lib/status.js';
import { app } from '../app.js';
import { openAddCloud } from './add-cloud.js';
import { openMenu } from './menu.js';
import { openWizard } from './wizard.js';
import { confirmDialog, promptDialog } from './dialogs.js';
import { toast } from './toast.js';
import { api } from '../api.js';

export function createSidebar(root) {
  const list = h('ul', { class: 'cloud-list', 'aria-label': 'Clouds' });
  replace(root,
    h('div', { class: 'brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), 'Skydeck'),
    h('div', { class: 'sidebar-head' },
      h('h2', { text: 'Clouds' }),
      h('button', { type: 'button', class: 'btn btn-small', id: 'add-cloud', text: '+ Add', title: 'Add a cloud', on: { click: openAddCloud } })),
    list);

  const draw = () => {
    const counts = new Map();
    for (const m of app.machines) counts.set(m.cloud_id, (counts.get(m.cloud_id) ?? 0) + 1);
    const active = app.view.clouds;
    const shown = app.shownMachines().length;
    replace(list,
      h('li', { class: ['cloud-item', active.size === 0 && 'active'] },
        h('button', {
          type: 'button', class: 'cloud-button', 'aria-pressed': String(active.size === 0),
          on: { click: () => app.setView({ clouds: new Set() }) },
        }, h('span', { class: 'logo logo-all', 'aria-hidden': 'true', text: '∗' }), h('span', { class: 'cloud-title', text: 'All machines' }),
        h('span', { class: 'count', text: String(shown) }))),
      app.clouds.map((c) => cloudItem(c, counts.get(c.id) ?? 0, active.has(c.id))));
  };
  app.on('clouds machines view', draw);
  draw();
}

function cloudItem(c, count, active) {
  const st = cloudStatus(c);
  const provider = app.providersById.get(c.provider);
  const menuButton = h('button', {
    type: 'button', class: 'btn btn-ghost cloud-menu', 'aria-haspopup': 'menu', 'aria-expanded': 'false',
    'aria-label': `Actions for cloud ${c.title}`, text: '⋯',
  });
  menuButton.addEventListener('click', () => openMenu(menuButton, [
    { label: 'New machine…', onSelect: () => openWizard({ cloudId: c.id }) },
    { label: 'Refresh now', onSelect: () => refreshOne(c) },
    { label: 'Rename…', onSelect: () => renameCloud(c) },
    { label: c.enabled ? 'Disable' : 'Enable', onSelect: () => toggleCloud(c) },
    { label: 'Remove…', danger: true, onSelect: () => removeCloud(c) },
  ], `Actions for ${c.title}`));
  return h('li', { class: ['cloud-item', active && 'active', `status-${st.kind}`], dataset: { cloudId: c.id } },
    h('button', {
      type: 'button', class: 'cloud-button', 'aria-pressed': String(active), title: `${c.title} — ${st.label}. ${st.reason}`,
      on: { click: () => app.setView({ clouds: active ? new Set() : new Set([c.id]) }) },
    },
    logo(provider ?? { title: c.provider }, 20),
    h('span', { class: 'cloud-text' },
      h('span', { class: 'cloud-title', text: c.title }),
      st.kind === 'ok' || st.kind === 'new' ? null : h('span', { class: 'cloud-reason', text: st.kind === 'disabled' ? 'Disabled' : st.reason })),
    h('span', { class: ['dot', `dot-${st.kind}`], role: 'img', 'aria-label': st.label }),
    h('span', { class: 'count', text: String(count) })),
    menuButton);
}

async function refreshOne(c) {
  try {
    const [outcome] = await api.refresh(c.id);
    await app.reload();
    if (outcome?.error) toast(`'${c.title}': ${outcome.error.message}`, 'error');
  } catch (e) {
    toast(e.message, 'error');
  }
}

function renameCloud(c) {
  return promptDialog({
    title: 'Rename cloud', label: 'Title', value: c.title,
    save: (title) => app.updateCloud(c.id, { title }),
  });
}

async function toggleCloud(c) {
  try {
    await app.updateCloud(c.id, { enabled: !c.enabled });
  } catch (e) {
    toast(e.message, 'error');
  }
}

async function removeCloud(c) {
  const ok = await confirmDialog({
    title: `Remove '${c.title}'?`,
    message: 'Skydeck forgets this cloud: its credentials are deleted from the keychain and its cached machines from this computer. The machines themselves keep running at the provider.',
    confirmLabel: 'Remove cloud',
    danger: true,
  });
  if (!ok) return;
  try {
    await app.removeCloud(c.id);
  } catch (e) {
    toast(`Could not remove '${c.title}': ${e.message}`, 'error');
  }
}
