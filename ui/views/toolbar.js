// Above the table: the filter box (`/` focuses it), state and cloud chips, "last updated" with
// a refresh button, the column chooser, and the bulk bar for a multi-selection.
import { h, replace, logo } from '../lib/dom.js';
import { COLUMNS, stateCounts, machineKey } from '../lib/machines.js';
import { bulkActions } from '../lib/actions.js';
import { relativeTime, plural } from '../lib/status.js';
import { app } from '../app.js';
import { openMenu } from './menu.js';
import { openWizard } from './wizard.js';
import { OFFLINE_REASON } from '../lib/live.js';

export function createToolbar(root, chipsRoot, bulkRoot) {
  const filter = h('input', {
    type: 'search', id: 'filter', class: 'search filter', placeholder: 'Filter by name, IP, tag, cloud   ( / )',
    autocomplete: 'off', spellcheck: 'false', 'aria-label': 'Filter machines',
  });
  let debounce = 0;
  const onFilter = () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => { if (filter.value !== app.view.query) app.setView({ query: filter.value }); }, 80);
  };
  // 'change' too: clearing the box programmatically (or by automation) fires no 'input'.
  filter.addEventListener('input', onFilter);
  filter.addEventListener('change', onFilter);
  filter.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && filter.value) { e.stopPropagation(); filter.value = ''; app.setView({ query: '' }); }
    if (e.key === 'Enter' || e.key === 'ArrowDown') { e.preventDefault(); document.getElementById('machines-grid')?.focus(); }
  });
  const count = h('span', { class: 'count-label', id: 'shown-count', 'aria-live': 'polite' });
  const updated = h('span', { class: 'updated', id: 'last-updated' });
  const refresh = h('button', { type: 'button', class: 'btn', id: 'refresh', text: 'Refresh', on: { click: () => app.refresh() } });
  const cols = h('button', { type: 'button', class: 'btn', text: 'Columns', 'aria-haspopup': 'menu', 'aria-expanded': 'false' });
  cols.addEventListener('click', () => {
    const shown = () => app.shownColumns ?? app.view.columns;
    openMenu(cols, COLUMNS.map((c) => ({
      checkbox: true, label: c.label, checked: shown().includes(c.key),
      onChange: (on) => {
        const next = COLUMNS.map((x) => x.key).filter((k) => (k === c.key ? on : shown().includes(k)));
        if (next.length) app.setView({ columns: next });
      },
    })), 'Columns');
  });
  const create = h('button', { type: 'button', class: 'btn btn-primary', id: 'new-machine', text: '+ New machine', on: { click: () => openWizard() } });
  replace(root, filter, count, h('span', { class: 'spacer' }), updated, refresh, cols, create);

  const drawUpdated = () => {
    refresh.disabled = app.refreshing;
    refresh.textContent = app.refreshing ? 'Refreshing…' : 'Refresh';
    refresh.classList.toggle('busy', app.refreshing);
    const failing = app.clouds.filter((c) => c.enabled && c.status?.error).length;
    const when = app.lastUpdated ? `Updated ${relativeTime(app.lastUpdated)}` : app.refreshing ? '' : 'Not refreshed yet';
    updated.textContent = failing ? [when, `${plural(failing, 'cloud')} stale`].filter(Boolean).join(' · ') : when;
    updated.classList.toggle('has-stale', failing > 0);
    updated.title = app.lastUpdated ? new Date(app.lastUpdated).toLocaleString() : '';
  };
  setInterval(drawUpdated, 5_000);

  const drawCount = () => {
    const total = app.shownMachines().length;
    const shown = app.shown?.length ?? total;
    count.textContent = shown === total ? plural(total, 'machine') : `${shown.toLocaleString()} of ${plural(total, 'machine')}`;
  };

  const chip = (label, pressed, onClick, extra = null, cls = '') =>
    h('button', { type: 'button', class: ['chip', cls, pressed && 'on'], 'aria-pressed': String(pressed), on: { click: onClick } }, extra, label);

  const drawChips = () => {
    if (document.activeElement !== filter && filter.value !== app.view.query) filter.value = app.view.query;
    const machines = app.shownMachines();
    const { states, clouds } = app.view;
    const toggleIn = (set, v) => { const s = new Set(set); s.has(v) ? s.delete(v) : s.add(v); return s; };
    const stateChips = stateCounts(machines).map(({ state, count: n }) =>
      chip(`${state} ${n.toLocaleString()}`, states.has(state), () => app.setView({ states: toggleIn(states, state) }), h('span', { class: 'chip-dot', dataset: { state } }), 'chip-state'));
    const cloudChips = app.clouds.length > 1 ? app.clouds.filter((c) => c.enabled).map((c) =>
      chip(c.title, clouds.has(c.id), () => app.setView({ clouds: toggleIn(clouds, c.id) }), logo(app.providersById.get(c.provider) ?? { title: c.provider }, 14))) : [];
    const any = states.size || clouds.size || app.view.query;
    replace(chipsRoot,
      stateChips.length ? h('div', { class: 'chip-group', role: 'group', 'aria-label': 'Filter by state' }, stateChips) : null,
      cloudChips.length ? h('div', { class: 'chip-group', role: 'group', 'aria-label': 'Filter by cloud' }, cloudChips) : null,
      any ? h('button', { type: 'button', class: 'btn btn-ghost btn-small', text: 'Clear filters', on: { click: () => app.setView({ query: '', states: new Set(), clouds: new Set() }) } }) : null);
  };

  const drawBulk = () => {
    const selected = [...app.selection].map((k) => app.machinesByKey.get(k)).filter(Boolean);
    bulkRoot.hidden = selected.length === 0;
    if (!selected.length) return;
    replace(bulkRoot,
      h('span', { class: 'bulk-count', text: `${selected.length} selected` }),
      bulkActions(selected).map((b) => h('button', {
        type: 'button', class: 'btn btn-small', dataset: { bulk: b.action },
        disabled: app.offline || b.machines.every((m) => app.pending.has(machineKey(m))),
        title: app.offline ? OFFLINE_REASON : null,
        on: { click: () => app.runAction(b.machines, b.action) },
      }, `${b.label} (${b.machines.length})`)),
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'btn btn-ghost btn-small', text: 'Clear selection', on: { click: () => app.setSelection([]) } }));
  };

  app.on('refresh clouds', drawUpdated);
  app.on('shown', drawCount);
  app.on('machines clouds view', drawChips);
  app.on('selection machines pending', drawBulk);
  drawUpdated();
  drawChips();
  drawBulk();
}
