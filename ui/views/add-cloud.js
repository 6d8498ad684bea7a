// "Add cloud": a searchable grid of provider logos, then a form generated from the chosen
// provider's credential fields, then "Test & save". Errors land at the field they name.
import { h, logo, replace } from '../lib/dom.js';
import { formModel, initialValues, missingRequired, toNewCloud, searchProviders, placeError } from '../lib/forms.js';
import { api } from '../api.js';
import { app } from '../app.js';
import { localHostsSection } from './local-hosts.js';

export function openAddCloud() {
  const opener = document.activeElement;
  const content = h('div', { class: 'add-cloud' });
  const dlg = h('dialog', { class: 'dialog dialog-wide', 'aria-label': 'Add cloud' }, content);
  dlg.addEventListener('close', () => {
    dlg.remove();
    opener?.focus?.();
  });
  document.body.append(dlg);
  dlg.showModal();
  showGrid(dlg, content, '');
}

function showGrid(dlg, content, initialSearch) {
  const search = h('input', {
    type: 'search', id: 'provider-search', class: 'search', placeholder: 'Search providers', autocomplete: 'off',
    'aria-label': 'Search providers',
  });
  search.value = initialSearch;
  const grid = h('div', { class: 'provider-grid', role: 'list' });
  const draw = () => {
    const list = searchProviders(app.providers, search.value);
    replace(grid, list.length
      ? list.map((p) => h('button', {
        type: 'button', class: 'provider-card', role: 'listitem', dataset: { provider: p.id },
        on: { click: () => showForm(dlg, content, p, search.value) },
      }, logo(p, 40), h('span', { class: 'provider-title', text: p.title }), p.legacy && h('span', { class: 'badge', text: 'legacy' })))
      : h('p', { class: 'muted', text: `No provider matches "${search.value}".` }));
  };
  search.addEventListener('input', draw);
  search.addEventListener('keydown', (e) => {
    // Enter picks the only / first match.
    if (e.key !== 'Enter') return;
    // Without preventDefault the same Enter would submit the form that replaces the grid.
    e.preventDefault();
    grid.querySelector('.provider-card')?.click();
  });
  draw();
  replace(content,
    h('div', { class: 'dialog-head' },
      h('h2', { class: 'dialog-title', text: 'Add a cloud' }),
      h('button', { type: 'button', class: 'btn btn-ghost', 'aria-label': 'Close', text: '×', on: { click: () => dlg.close() } })),
    localHostsSection({ onAdded: () => dlg.close() }),
    h('p', { class: 'muted', text: 'Pick the provider where your machines run.' }),
    search, grid);
  search.focus();
}

function fieldRow(f, values, onFile) {
  const { tag, type } = f.control;
  const common = { id: f.id, name: f.key, 'aria-describedby': `${f.id}-help ${f.id}-error`, dataset: { field: f.key } };
  let control;
  if (tag === 'select') {
    control = h('select', common, (f.options ?? []).map((o) => h('option', { value: o, text: o })));
    control.value = values[f.key] ?? '';
  } else if (tag === 'textarea') {
    control = h('textarea', {
      ...common, rows: 4, placeholder: f.placeholder || null, spellcheck: 'false', autocomplete: 'off',
      class: f.control.masked ? 'masked' : null,
    });
    control.value = values[f.key] ?? '';
  } else if (type === 'file') {
    control = h('input', { ...common, type: 'file' });
    control.addEventListener('change', async () => onFile(f.key, control.files?.[0]));
  } else {
    control = h('input', {
      ...common, type, placeholder: f.placeholder || null, spellcheck: 'false',
      autocomplete: type === 'password' ? 'new-password' : 'off',
    });
    control.value = values[f.key] ?? '';
  }
  if (f.required) control.setAttribute('aria-required', 'true');
  return h('div', { class: 'field', dataset: { field: f.key } },
    h('label', { for: f.id, class: 'field-label' }, f.label, f.required ? h('span', { class: 'req', 'aria-hidden': 'true', text: ' *' }) : ''),
    control,
    h('p', { class: 'field-help', id: `${f.id}-help`, text: f.help || '' }),
    h('p', { class: 'field-error', id: `${f.id}-error`, role: 'alert', hidden: true }));
}

function showForm(dlg, content, provider, searchText) {
  const model = formModel(provider);
  const values = initialValues(provider);
  const onFile = async (key, file) => {
    values[key] = file ? await file.text() : '';
  };
  const all = [model.title, ...model.basic, ...model.advanced];
  const banner = h('div', { class: 'form-error banner', role: 'alert', hidden: true });
  const advanced = model.advanced.length
    ? h('details', { class: 'advanced' }, h('summary', { text: 'Advanced' }), model.advanced.map((f) => fieldRow(f, values, onFile)))
    : null;
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'test-and-save', text: 'Test & save' });
  const form = h('form', { class: 'cloud-form', novalidate: true, autocomplete: 'off' },
    banner,
    fieldRow(model.title, values, onFile),
    model.basic.map((f) => fieldRow(f, values, onFile)),
    advanced,
    h('div', { class: 'dialog-buttons' },
      h('button', { type: 'button', class: 'btn', text: 'Back', on: { click: () => showGrid(dlg, content, searchText) } }),
      h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'btn', text: 'Cancel', on: { click: () => dlg.close() } }),
      submit));

  const clearErrors = () => {
    banner.hidden = true;
    for (const el of form.querySelectorAll('.field-error')) { el.hidden = true; el.textContent = ''; }
    for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  };
  const showFieldError = (key, message) => {
    const row = form.querySelector(`.field[data-field="${CSS.escape(key)}"]`);
    if (!row) return false;
    const err = row.querySelector('.field-error');
    err.textContent = message;
    err.hidden = false;
    const control = row.querySelector('[data-field]:not(.field)') ?? row.querySelector('input, select, textarea');
    control.setAttribute('aria-invalid', 'true');
    if (advanced?.contains(row)) advanced.open = true;
    return control;
  };
  const read = () => {
    for (const f of all) {
      if (f.control.type === 'file') continue;
      const el = form.elements.namedItem(f.key);
      if (el) values[f.key] = el.value;
    }
  };
  const setBusy = (busy) => {
    submit.disabled = busy;
    submit.textContent = busy ? 'Testing…' : 'Test & save';
    submit.classList.toggle('busy', busy);
    for (const el of form.querySelectorAll('input, select, textarea')) el.disabled = busy;
  };

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors();
    read();
    const missing = Object.entries(missingRequired(provider, values));
    if (missing.length) {
      const controls = missing.map(([k, msg]) => showFieldError(k, msg));
      controls.find(Boolean)?.focus();
      return;
    }
    setBusy(true);
    try {
      const cloud = await api.addCloud(toNewCloud(provider, values));
      dlg.close();
      await app.cloudAdded(cloud);
    } catch (e) {
      setBusy(false);
      const placed = placeError(provider, e);
      const control = placed.field && showFieldError(placed.field, placed.message);
      if (control) {
        control.focus();
      } else {
        banner.textContent = placed.message;
        banner.hidden = false;
        // Rejected credentials concern the secret fields: mark them.
        if (e.code === 'unauthenticated') {
          for (const f of all) if (f.kind === 'secret') form.elements.namedItem(f.key)?.setAttribute('aria-invalid', 'true');
        }
        banner.focus?.();
      }
    }
  });

  replace(content,
    h('div', { class: 'dialog-head' },
      logo(provider, 32),
      h('h2', { class: 'dialog-title', text: `Add ${provider.title}` }),
      h('button', { type: 'button', class: 'btn btn-ghost', 'aria-label': 'Close', text: '×', on: { click: () => dlg.close() } })),
    provider.docs_url ? h('p', { class: 'muted small' }, 'Credentials: see ', h('span', { class: 'mono', text: provider.docs_url })) : null,
    form);
  banner.tabIndex = -1;
  form.querySelector('input, select, textarea')?.focus();
}
