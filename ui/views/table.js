// The machine table: one virtualized grid for every machine of every cloud. Only the rows in
// view (plus a few) exist in the DOM and are recycled while scrolling, so 10,000 machines
// scroll and filter smoothly.
import { h, setText, logo, replace } from '../lib/dom.js';
import { COLUMNS, CHECK_WIDTH, machineKey, filterMachines, sortMachines, visibleRange, minWidth, fitColumns } from '../lib/machines.js';
import { runningLabel } from '../lib/actions.js';
import { app } from '../app.js';

export const ROW_H = 34;

export function createTable(root) {
  const header = h('div', { class: 'grid-row grid-header', role: 'row' });
  const body = h('div', { class: 'grid-body', role: 'rowgroup' });
  const empty = h('div', { class: 'grid-empty', hidden: true });
  const inner = h('div', { class: 'grid-inner' }, header, body);
  const viewport = h('div', { class: 'grid-viewport', id: 'machines-grid', tabindex: 0, role: 'grid', 'aria-label': 'Machines', 'aria-multiselectable': 'true' }, inner, empty);
  replace(root, viewport);

  let columns = [];
  let rows = [];
  let pool = [];
  let cursor = -1;
  let anchor = -1;
  const hay = new Map();
  let frame = 0;

  let shownKeys = '';
  const setColumns = () => {
    // Until the user picks columns, show the defaults that fit without scrolling sideways.
    const keys = app.view.columnsAuto ? fitColumns(app.view.columns, viewport.clientWidth || 1000) : app.view.columns;
    if (keys.join() === shownKeys && pool.length) return;
    shownKeys = keys.join();
    app.shownColumns = keys;
    columns = keys.map((k) => COLUMNS.find((c) => c.key === k)).filter(Boolean);
    const template = [`${CHECK_WIDTH}px`, ...columns.map((c) => c.width)].join(' ');
    const min = CHECK_WIDTH + columns.reduce((s, c) => s + minWidth(c), 0);
    inner.style.setProperty('--grid-cols', template);
    inner.style.setProperty('--grid-min', `${min}px`);
    drawHeader();
    for (const r of pool) r.el.remove();
    pool = [];
  };

  const drawHeader = () => {
    const all = h('input', { type: 'checkbox', 'aria-label': 'Select all shown machines', id: 'select-all' });
    all.addEventListener('change', () => app.setSelection(all.checked ? rows.map(machineKey) : []));
    const { key, dir } = app.view.sort;
    replace(header,
      h('div', { class: 'cell cell-check', role: 'columnheader' }, all),
      columns.map((c) => h('div', {
        class: 'cell', role: 'columnheader', 'aria-sort': c.key === key ? (dir === 'asc' ? 'ascending' : 'descending') : 'none',
      }, h('button', {
        type: 'button', class: 'sort', dataset: { sort: c.key },
        on: { click: () => app.setView({ sort: { key: c.key, dir: c.key === key && dir === 'asc' ? 'desc' : 'asc' } }) },
      }, c.label, h('span', { class: 'sort-mark', 'aria-hidden': 'true', text: c.key === key ? (dir === 'asc' ? ' ▲' : ' ▼') : '' })))));
    syncSelectAll();
  };

  const syncSelectAll = () => {
    const all = header.querySelector('#select-all');
    if (!all) return;
    const n = rows.filter((m) => app.selection.has(machineKey(m))).length;
    all.checked = n > 0 && n === rows.length;
    all.indeterminate = n > 0 && n < rows.length;
  };

  /** Recomputes the shown rows from machines + filters + sort. */
  const recompute = () => {
    hay.clear();
    const filtered = filterMachines(app.shownMachines(), app.view, app.ctx, hay);
    rows = sortMachines(filtered, app.view.sort, app.ctx);
    body.style.height = `${rows.length * ROW_H}px`;
    viewport.setAttribute('aria-rowcount', String(rows.length + 1));
    if (cursor >= rows.length) cursor = rows.length - 1;
    drawEmpty();
    syncSelectAll();
    app.shown = rows;
    app.emit('shown');
    render();
  };

  const drawEmpty = () => {
    const total = app.shownMachines().length;
    empty.hidden = rows.length > 0;
    if (rows.length) return;
    const filtered = total > 0;
    replace(empty,
      h('p', { text: filtered ? 'No machine matches the filter.' : app.refreshing ? 'Loading machines…' : 'No machines in your clouds yet.' }),
      filtered ? h('button', { type: 'button', class: 'btn', text: 'Clear filters', on: { click: () => app.setView({ query: '', states: new Set(), clouds: new Set() }) } }) : null);
  };

  const makeRow = () => {
    const check = h('input', { type: 'checkbox', tabIndex: -1, 'aria-label': 'Select' });
    const cells = columns.map((c) => h('div', { class: ['cell', `col-${c.key}`], role: 'gridcell' }));
    const el = h('div', { class: 'grid-row', role: 'row' }, h('div', { class: 'cell cell-check', role: 'gridcell' }, check), cells);
    body.append(el);
    return { el, check, cells, cloudId: null };
  };

  const fillRow = (r, m, i) => {
    const key = machineKey(m);
    const pending = app.pending.get(key);
    r.el.dataset.key = key;
    r.el.dataset.index = String(i);
    r.el.setAttribute('aria-rowindex', String(i + 2));
    r.el.style.transform = `translateY(${i * ROW_H}px)`;
    r.el.classList.toggle('stale', Boolean(m.stale));
    r.el.classList.toggle('selected', app.selection.has(key));
    r.el.classList.toggle('cursor', i === cursor);
    r.el.classList.toggle('open', key === app.detailsKey);
    r.el.classList.toggle('busy', Boolean(pending));
    r.el.setAttribute('aria-selected', String(app.selection.has(key)));
    r.check.checked = app.selection.has(key);
    r.check.setAttribute('aria-label', `Select ${m.name || m.id}`);
    columns.forEach((c, j) => {
      const cell = r.cells[j];
      if (c.key === 'state') {
        const label = pending ? runningLabel(pending) : m.state;
        cell.dataset.state = pending ? 'busy' : m.state;
        setText(cell, label);
        cell.title = pending ? label : `${m.state} (${m.raw_state})`;
      } else if (c.key === 'cloud') {
        // Redrawn when the row shows another cloud or the cloud's title changed (renamed, or
        // machines that arrived before their cloud was listed).
        const title = app.ctx.cloud(m.cloud_id)?.title ?? m.cloud_id;
        if (r.cloudId !== m.cloud_id || r.cloudTitle !== title) {
          replace(cell, logo(app.ctx.provider(m.provider) ?? { title: m.provider }, 16), h('span', { text: title }));
          r.cloudId = m.cloud_id;
          r.cloudTitle = title;
        }
        cell.title = m.stale ? `Stale: ${app.ctx.cloud(m.cloud_id)?.status?.error?.message ?? 'the last refresh failed'}` : '';
      } else {
        const t = c.text(m, app.ctx) ?? '';
        setText(cell, t);
        cell.title = t;
      }
    });
  };

  const render = () => {
    frame = 0;
    const top = viewport.scrollTop - header.offsetHeight;
    const { start, end } = visibleRange(top, viewport.clientHeight, ROW_H, rows.length);
    while (pool.length < end - start) pool.push(makeRow());
    for (let j = 0; j < pool.length; j++) {
      const i = start + j;
      const r = pool[j];
      if (i < end) {
        r.el.hidden = false;
        fillRow(r, rows[i], i);
      } else {
        r.el.hidden = true;
      }
    }
  };
  const schedule = () => { if (!frame) frame = requestAnimationFrame(render); };

  const setCursor = (i, { reveal = true } = {}) => {
    if (!rows.length) return;
    cursor = Math.max(0, Math.min(rows.length - 1, i));
    if (reveal) {
      const y = cursor * ROW_H;
      const visible = viewport.clientHeight - header.offsetHeight;
      if (y < viewport.scrollTop) viewport.scrollTop = y;
      else if (y + ROW_H > viewport.scrollTop + visible) viewport.scrollTop = y + ROW_H - visible;
    }
    render();
  };

  const toggle = (i, range) => {
    const sel = new Set(app.selection);
    const key = machineKey(rows[i]);
    const on = !sel.has(key);
    if (range && anchor >= 0) {
      const [a, b] = [Math.min(anchor, i), Math.max(anchor, i)];
      for (let k = a; k <= b; k++) on ? sel.add(machineKey(rows[k])) : sel.delete(machineKey(rows[k]));
    } else {
      on ? sel.add(key) : sel.delete(key);
    }
    anchor = i;
    app.setSelection(sel);
  };

  body.addEventListener('click', (e) => {
    const rowEl = e.target.closest('.grid-row');
    if (!rowEl) return;
    const i = Number(rowEl.dataset.index);
    if (e.target.closest('.cell-check') || e.ctrlKey || e.metaKey || e.shiftKey) {
      if (e.target.tagName !== 'INPUT') e.preventDefault();
      toggle(i, e.shiftKey);
      setCursor(i, { reveal: false });
      return;
    }
    setCursor(i, { reveal: false });
    app.openDetails(rowEl.dataset.key);
  });

  viewport.addEventListener('keydown', (e) => {
    if (e.target !== viewport) return;
    const page = Math.max(1, Math.floor((viewport.clientHeight - header.offsetHeight) / ROW_H) - 1);
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    if (e.key in moves) setCursor((cursor < 0 ? 0 : cursor + moves[e.key]));
    else if (e.key === 'Home') setCursor(0);
    else if (e.key === 'End') setCursor(rows.length - 1);
    else if (e.key === 'Enter' && cursor >= 0) app.openDetails(machineKey(rows[cursor]));
    else if (e.key === ' ' && cursor >= 0) toggle(cursor, e.shiftKey);
    else if (e.key === 'a' && (e.ctrlKey || e.metaKey)) app.setSelection(rows.map(machineKey));
    else return;
    e.preventDefault();
  });
  viewport.addEventListener('focus', () => { if (cursor < 0 && rows.length) setCursor(0, { reveal: false }); });
  viewport.addEventListener('scroll', schedule, { passive: true });
  new ResizeObserver(() => {
    if (app.view.columnsAuto) setColumns();
    schedule();
  }).observe(viewport);

  app.on('machines clouds', recompute);
  app.on('view', () => { shownKeys = ''; setColumns(); recompute(); });
  app.on('selection details pending', () => { syncSelectAll(); render(); });
  app.on('refresh', drawEmpty);
  setColumns();
  recompute();
}
