// The add-cloud form as data, generated from a provider's declared credential fields. No
// provider is named here: everything comes from `list_providers`.

/** The HTML control for a field kind. Multi-line secrets (PEM keys) are masked text areas:
 * a password input would drop their line breaks. */
export function controlFor(kind, multiline = false) {
  if (multiline && (kind === 'secret' || kind === 'text')) return { tag: 'textarea', masked: kind === 'secret' };
  switch (kind) {
    case 'secret': return { tag: 'input', type: 'password' };
    case 'url': return { tag: 'input', type: 'url' };
    case 'select': return { tag: 'select' };
    case 'textarea': return { tag: 'textarea' };
    case 'file': return { tag: 'input', type: 'file' };
    default: return { tag: 'input', type: 'text' };
  }
}

/**
 * The form model: the title field first, then the provider's basic fields, then the
 * advanced ones (shown in a collapsed "Advanced" section).
 */
export function formModel(provider) {
  const title = {
    key: 'title', label: 'Title', kind: 'text', required: true,
    help: 'How this cloud is called in Skydeck, e.g. "work" or "personal".',
    placeholder: provider.title, default: null, advanced: false, options: [],
  };
  const fields = (provider.fields ?? []).map((f) => ({ ...f, control: controlFor(f.kind, f.multiline), id: `field-${f.key}` }));
  return {
    provider: provider.id,
    title: { ...title, control: controlFor('text'), id: 'field-title' },
    basic: fields.filter((f) => !f.advanced),
    advanced: fields.filter((f) => f.advanced),
  };
}

/** Initial values: the provider's title as the cloud's, each field's default, or the first
 * option of a select. */
export function initialValues(provider) {
  const values = { title: provider.title };
  for (const f of provider.fields ?? []) {
    values[f.key] = f.default ?? (f.kind === 'select' && f.options?.length ? f.options[0] : '');
  }
  return values;
}

/** Fields missing a required value, as {field: message}: checked before any network call. */
export function missingRequired(provider, values) {
  const errors = {};
  if (!String(values.title ?? '').trim()) errors.title = 'Give the cloud a title.';
  for (const f of provider.fields ?? []) {
    if (f.required && !String(values[f.key] ?? '').trim() && !f.default) errors[f.key] = `${f.label} is required.`;
  }
  return errors;
}

/** What `add_cloud` receives: trimmed non-empty values of the provider's own fields only. */
export function toNewCloud(provider, values) {
  const fields = {};
  for (const f of provider.fields ?? []) {
    const v = values[f.key];
    if (v === undefined || v === null) continue;
    // Secrets and file contents are kept verbatim apart from surrounding whitespace.
    const s = String(v).trim();
    if (s !== '') fields[f.key] = s;
  }
  return { provider: provider.id, title: String(values.title ?? '').trim(), fields };
}

/** Providers matching a search text (title or id), current ones before legacy ones. */
export function searchProviders(providers, text) {
  const q = String(text ?? '').trim().toLowerCase();
  return providers
    .filter((p) => !q || p.title.toLowerCase().includes(q) || p.id.toLowerCase().includes(q))
    .sort((a, b) => Number(a.legacy) - Number(b.legacy) || a.title.localeCompare(b.title));
}

/**
 * Where an error from the core is shown: at the field it names when the form has that field,
 * else at the top of the form.
 */
export function placeError(provider, error) {
  const keys = new Set(['title', ...(provider.fields ?? []).map((f) => f.key)]);
  const field = error?.field && keys.has(error.field) ? error.field : null;
  return { field, message: error?.message ?? String(error) };
}
