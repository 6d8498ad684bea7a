// The body of each wizard step. Every string from a cloud (names, ids, distributions) is put
// in as text through h(). Lists are radio groups: arrow keys move, Enter goes on.
import { h, logo } from '../lib/dom.js';
import {
  cloudCreatable, sortLocations, sortSizes, sizesIn, imagesFor, archesIn, costEstimate, formatMoney,
  formatRam, formatDisk, imageLabel, locationLabel, reviewSummary, fetchedLabel, STEP_TITLES, stepsFor,
} from '../lib/wizard.js';
import { keyType, sortKeys } from '../lib/keys.js';
import { app } from '../app.js';
import { openGenerate } from './keys.js';
import { changed, pickCloud, loadCatalog, loadKeys, go, provider, cloudOf, ctx, render } from './wizard.js';

/** At most this many rows are drawn; the search narrows the rest. */
const MAX_ROWS = 200;

export function renderStep(w) {
  const body = {
    cloud: cloudStep, location: locationStep, size: sizeStep, image: imageStep,
    key: keyStep, details: detailsStep, review: reviewStep,
  }[w.step](w);
  return h('section', { class: 'wizard-step', dataset: { step: w.step }, 'aria-label': STEP_TITLES[w.step] },
    body,
    h('p', { class: 'field-error wizard-error', id: `wizard-error-${w.step}`, role: 'alert', hidden: !w.errors[w.step], text: w.errors[w.step] ?? '' }));
}

function fieldError(w, field) {
  const msg = w.errors[field];
  return h('p', { class: 'field-error', id: `wizard-error-${field}`, role: 'alert', hidden: !msg, text: msg ?? '' });
}

/** A radio list. items: [{id, disabled?, title?, cells: [nodes|strings]}]. */
function choices(name, items, selected, onPick, { head = null, empty = 'Nothing to choose from.' } = {}) {
  if (!items.length) return h('p', { class: 'muted choice-empty', text: empty });
  const shown = items.slice(0, MAX_ROWS);
  return h('div', { class: 'choice-list', role: 'radiogroup', 'aria-label': name },
    head ? h('div', { class: 'choice choice-head', 'aria-hidden': 'true' }, h('span'), head.map((c) => h('span', { text: c }))) : null,
    shown.map((it) => h('label', { class: ['choice', it.id === selected && 'selected', it.disabled && 'disabled'], title: it.title ?? null, dataset: { id: it.id } },
      h('input', {
        type: 'radio', name: `wz-${name}`, value: it.id, checked: it.id === selected, disabled: Boolean(it.disabled),
        id: `wz-${name}-${shown.indexOf(it)}`, on: { change: () => onPick(it.id) },
      }),
      it.cells.map((c) => (typeof c === 'object' && c !== null ? c : h('span', { text: c ?? '' }))))),
    items.length > MAX_ROWS ? h('p', { class: 'muted small', text: `Showing ${MAX_ROWS} of ${items.length}; search to narrow the list.` }) : null);
}

/** "Fetched 3 min ago · Refresh" above a catalog step, or its loading / error state. */
function catalogBar(w, kind) {
  const busy = Boolean(w.loading[kind]);
  const meta = w.meta[kind];
  const label = busy ? `Loading ${kind}…` : meta?.unsupported ? '' : fetchedLabel(meta);
  return h('div', { class: 'catalog-bar' },
    h('span', { class: ['muted', 'small', meta?.stale && 'stale'], id: `catalog-age-${kind}`, text: label }),
    h('span', { class: 'spacer' }),
    meta?.unsupported ? null : h('button', {
      type: 'button', class: ['btn', 'btn-small', busy && 'busy'], id: `catalog-refresh-${kind}`, disabled: busy,
      text: 'Refresh', title: `Fetch the ${kind} from the provider again`, on: { click: () => loadCatalog(w, kind, true) },
    }),
    w.catErr[kind] ? h('p', { class: 'form-error banner catalog-error', role: 'alert', text: w.catErr[kind] }) : null);
}

/** A provider that lists no catalog of this kind: the id is typed by hand. */
function manualId(w, key, label) {
  const input = h('input', { type: 'text', id: `wz-${key}-manual`, value: w.state[key] ?? '', autocomplete: 'off', spellcheck: 'false' });
  input.addEventListener('input', () => { w.state[key] = input.value.trim() || null; changed(w, { redraw: false }); });
  return h('div', { class: 'field' }, h('label', { class: 'field-label', for: input.id, text: label }), input,
    h('p', { class: 'field-help', text: 'This provider does not list them; type the id its documentation gives.' }));
}

function cloudStep(w) {
  const items = app.clouds.map((c) => {
    const p = app.providersById.get(c.provider);
    const can = cloudCreatable(c, p);
    return {
      id: c.id, disabled: !can.ok, title: can.reason || null,
      cells: [h('span', { class: 'choice-main' }, logo(p ?? { title: c.provider }, 20), h('span', { text: c.title })),
        h('span', { class: 'muted', text: can.ok ? p.title : can.reason })],
    };
  });
  return [
    h('p', { class: 'muted', text: 'Where should the machine run?' }),
    choices('cloud', items, w.state.cloudId, (id) => pickCloud(w, id), { empty: 'Add a cloud first (sidebar: + Add).' }),
    fieldError(w, 'cloud'),
  ];
}

function locationStep(w) {
  if (w.meta.locations?.unsupported) return [manualId(w, 'location', 'Location id'), fieldError(w, 'location')];
  const items = sortLocations(w.cat.locations ?? []).map((l) => ({
    id: l.id, disabled: !l.available, title: l.available ? null : 'Not taking new machines now',
    cells: [h('span', { class: 'choice-main', text: locationLabel(l) }), h('span', { class: 'mono muted', text: l.id }),
      l.available ? '' : h('span', { class: 'badge', text: 'unavailable' })],
  }));
  return [
    catalogBar(w, 'locations'),
    w.cat.locations ? choices('location', items, w.state.location, (id) => { w.state.location = id; changed(w); }) : null,
    fieldError(w, 'location'),
  ];
}

function sizeStep(w) {
  if (w.meta.sizes?.unsupported) return [manualId(w, 'size', 'Size id'), fieldError(w, 'size')];
  const all = w.cat.sizes ?? [];
  const fit = sortSizes(sizesIn(all, w.state.location));
  const items = fit.map((s) => {
    const cost = costEstimate(s);
    return {
      id: s.id,
      cells: [h('span', { class: 'choice-main', text: s.name }),
        typeof s.vcpus === 'number' ? String(s.vcpus) : '—', formatRam(s.ram_mb), formatDisk(s.disk_gb),
        h('span', { class: 'num', text: cost ? formatMoney(cost.hourly, true) : '—' }),
        h('span', { class: 'num', text: cost ? formatMoney(cost.monthly) : '—' })],
    };
  });
  const hidden = all.length - fit.length;
  return [
    catalogBar(w, 'sizes'),
    w.cat.sizes ? choices('size', items, w.state.size, (id) => { w.state.size = id; changed(w); }, {
      head: ['Size', 'vCPU', 'RAM', 'Disk', 'per hour', 'per month'], empty: 'No size is offered in this location; go back and choose another.',
    }) : null,
    hidden > 0 ? h('p', { class: 'muted small', text: `${hidden} more not offered in ${w.state.location}.` }) : null,
    w.cat.sizes && !all.some((s) => costEstimate(s)) ? h('p', { class: 'muted small', text: 'This provider publishes no prices through its API.' }) : null,
    fieldError(w, 'size'),
  ];
}

function imageStep(w) {
  if (w.meta.images?.unsupported) return [manualId(w, 'image', 'Image id'), fieldError(w, 'image')];
  const all = w.cat.images ?? [];
  const arches = archesIn(all, w.state.location);
  const list = h('div', { class: 'image-results' });
  const search = h('input', {
    type: 'search', id: 'wz-image-search', class: 'search', placeholder: 'Search: ubuntu 24.04, debian, arm64…',
    autocomplete: 'off', spellcheck: 'false', 'aria-label': 'Search images', value: w.state.imageQuery,
  });
  const arch = h('select', { id: 'wz-arch', 'aria-label': 'Architecture' },
    h('option', { value: '', text: 'Any architecture' }), arches.map((a) => h('option', { value: a, text: a })));
  arch.value = w.state.arch;
  const drawList = () => {
    const found = imagesFor(all, w.state.location, w.state.arch, w.state.imageQuery);
    const items = found.map((i) => ({
      id: i.id,
      cells: [h('span', { class: 'choice-main', title: i.name, text: i.name }), h('span', { text: imageLabel(i) }), h('span', { class: 'mono muted', text: i.id })],
    }));
    list.replaceChildren(choices('image', items, w.state.image, (id) => { w.state.image = id; changed(w); }, {
      empty: all.length ? 'No image matches; change the search or the architecture.' : 'This cloud lists no images here.',
    }));
  };
  search.addEventListener('input', () => { w.state.imageQuery = search.value; drawList(); });
  // Enter in the search picks the first match when nothing is picked yet; else it goes on.
  search.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !w.state.image) {
      const first = list.querySelector('input[type=radio]');
      if (first) { e.preventDefault(); first.click(); }
    }
  });
  arch.addEventListener('change', () => { w.state.arch = arch.value; drawList(); });
  drawList();
  return [
    catalogBar(w, 'images'),
    w.cat.images ? h('div', { class: 'image-filters' }, search, arches.length > 1 ? arch : null) : null,
    w.cat.images ? list : null,
    fieldError(w, 'image'),
  ];
}

function keyStep(w) {
  const p = provider(w);
  const how = {
    registered: `${p?.title ?? 'The provider'} gets the public key through its API (once; reused after).`,
    per_region: `${p?.title ?? 'The provider'} gets the public key imported in the machine's region (once per region).`,
    inline: 'The public key is passed to the machine when it is created.',
  }[p?.capabilities?.key_delivery] ?? '';
  const items = sortKeys(w.keys).map((k) => ({
    id: k.id,
    cells: [h('span', { class: 'choice-main' }, h('span', { text: k.name }), k.is_default ? h('span', { class: 'badge badge-accent', text: 'default' }) : null),
      h('span', { text: keyType(k.algorithm) }), h('span', { class: 'mono muted', title: k.fingerprint, text: k.fingerprint })],
  }));
  items.push({ id: '__none__', cells: [h('span', { class: 'choice-main', text: 'No key' }), '', h('span', { class: 'muted', text: 'Log in another way (e.g. a user set up by cloud-init)' })] });
  const generate = h('button', {
    type: 'button', class: 'btn', id: 'wz-generate-key', text: 'Generate a new key…',
    on: { click: async () => {
      const k = await openGenerate();
      if (!k) return;
      await loadKeys(w, k.id);
      changed(w);
      // Ready for Enter: the new key is chosen.
      w.dlg.querySelector('input[name=wz-key]:checked')?.focus();
    } },
  });
  return [
    h('p', { class: 'muted', text: `Which SSH key may log in? ${how}` }),
    w.keysLoaded ? choices('key', items, w.state.keyId === null ? '__none__' : w.state.keyId, (id) => { w.state.keyId = id === '__none__' ? null : id; changed(w); }) : h('p', { class: 'muted', text: 'Loading keys…' }),
    h('div', { class: 'wizard-inline-actions' }, generate),
    fieldError(w, 'key'),
    fieldError(w, 'passphrase'),
  ];
}

function detailsStep(w) {
  const p = provider(w);
  const name = h('input', { type: 'text', id: 'wz-name', value: w.state.name, autocomplete: 'off', spellcheck: 'false', placeholder: 'web-1', 'aria-describedby': 'wizard-error-name' });
  name.addEventListener('input', () => { w.state.name = name.value; w.errors.name = null; w.dirty = true; w.checked = null; });
  const tagRows = h('div', { class: 'tag-rows', id: 'wz-tags' });
  const drawTags = () => tagRows.replaceChildren(...w.state.tags.map((t, i) => {
    const k = h('input', { type: 'text', id: `wz-tag-key-${i}`, value: t.key, placeholder: 'key', 'aria-label': `Tag ${i + 1} key`, autocomplete: 'off', spellcheck: 'false' });
    const v = h('input', { type: 'text', id: `wz-tag-value-${i}`, value: t.value, placeholder: 'value', 'aria-label': `Tag ${i + 1} value`, autocomplete: 'off', spellcheck: 'false' });
    k.addEventListener('input', () => { t.key = k.value; w.dirty = true; w.checked = null; });
    v.addEventListener('input', () => { t.value = v.value; w.dirty = true; w.checked = null; });
    const rm = h('button', { type: 'button', class: 'btn btn-ghost btn-small', 'aria-label': `Remove tag ${i + 1}`, text: '×', on: { click: () => { w.state.tags.splice(i, 1); drawTags(); } } });
    return h('div', { class: 'tag-row' }, k, h('span', { class: 'muted', text: '=' }), v, rm);
  }));
  drawTags();
  const addTag = h('button', {
    type: 'button', class: 'btn btn-small', id: 'wz-add-tag', text: '+ Add tag',
    on: { click: () => { w.state.tags.push({ key: '', value: '' }); drawTags(); tagRows.querySelector(`#wz-tag-key-${w.state.tags.length - 1}`)?.focus(); } },
  });
  let userData = null;
  if (p?.capabilities?.user_data) {
    const ta = h('textarea', { id: 'wz-user-data', rows: 6, spellcheck: 'false', placeholder: '#cloud-config\npackages:\n  - nginx', value: w.state.userData });
    ta.value = w.state.userData;
    ta.addEventListener('input', () => { w.state.userData = ta.value; w.dirty = true; w.checked = null; });
    userData = h('div', { class: 'field' },
      h('label', { class: 'field-label', for: ta.id, text: 'Cloud-init user data (optional)' }), ta,
      h('p', { class: 'field-help', text: 'Runs on first boot. Never written to Skydeck’s logs or activity.' }),
      fieldError(w, 'user_data'));
  }
  return [
    h('div', { class: 'field' }, h('label', { class: 'field-label', for: 'wz-name', text: 'Name' }), name,
      h('p', { class: 'field-help', text: "Letters, digits, '-' and '.'; it becomes the host name." }), fieldError(w, 'name')),
    h('div', { class: 'field' }, h('span', { class: 'field-label', text: 'Tags' }), tagRows, h('div', {}, addTag), fieldError(w, 'tags')),
    userData,
  ];
}

function reviewStep(w) {
  const c = ctx(w);
  const rows = reviewSummary(w.state, { cloud: cloudOf(w), provider: c.provider, cat: w.cat, keys: w.keys });
  const status = w.checking
    ? h('p', { class: 'muted', id: 'wizard-check', text: 'Checking your choices with the cloud’s catalogs…' })
    : w.checked ? h('p', { class: 'ok-note', id: 'wizard-check', text: 'Everything checks out. Press Create machine.' }) : null;
  return [
    h('dl', { class: 'review', id: 'wizard-review' }, rows.map((r) => [
      h('dt', { text: r.label }),
      h('dd', { dataset: { step: r.step } }, h('span', { text: r.value }),
        stepsFor(c.provider).includes(r.step) && r.label !== 'Estimated cost'
          ? h('button', { type: 'button', class: 'btn btn-ghost btn-small review-edit', text: 'Change', on: { click: () => go(w, r.step) } }) : null),
    ])),
    status,
    w.banner ? h('div', { class: 'form-error banner', role: 'alert', id: 'wizard-banner' }, h('span', { text: w.banner }), ' ',
      h('button', { type: 'button', class: 'btn btn-small', text: 'Check again', on: { click: () => go(w, 'review') } })) : null,
  ];
}

export { render };
