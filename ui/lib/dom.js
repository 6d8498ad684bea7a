// The only way views build DOM: `h(tag, props, ...children)`. Children that are strings become
// text nodes, so a string from a cloud can never become markup. There is deliberately no way
// to set innerHTML or an inline `on*` attribute through it.

const FORBIDDEN_PROPS = new Set(['innerHTML', 'outerHTML', 'srcdoc', 'style']);

/**
 * Creates an element.
 * props: { class, text, dataset: {}, on: {event: fn}, attrs via any other key (setAttribute),
 *          and a few properties assigned directly: value, checked, disabled, hidden, type, tabIndex }.
 */
export function h(tag, props = {}, ...children) {
  const doc = props.document ?? globalThis.document;
  const el = doc.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false || key === 'document') continue;
    if (FORBIDDEN_PROPS.has(key)) throw new Error(`h(): '${key}' is not allowed; build DOM nodes instead`);
    if (/^on[a-z]/i.test(key)) throw new Error(`h(): inline '${key}' is not allowed; use on: {event: fn}`);
    if (key === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'on') for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
    else if (key === 'dataset') for (const [k, v] of Object.entries(value)) el.dataset[k] = String(v);
    else if (PROPERTIES.has(key)) el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'hidden', 'type', 'tabIndex', 'open', 'selected', 'multiple']);

/** Appends children: nodes as they are, strings and numbers as text nodes, arrays flattened. */
export function append(el, children) {
  const doc = el.ownerDocument ?? globalThis.document;
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'object' ? c : doc.createTextNode(String(c)));
  }
  return el;
}

/** Replaces all children of `el`. */
export function replace(el, ...children) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return append(el, children);
}

/** Sets text only when it changed (cheap updates of recycled table rows). */
export function setText(el, text) {
  const t = text ?? '';
  if (el.textContent !== t) el.textContent = t;
}

/** A provider's logo as an <img>; falls back to the provider's initials if the file is missing. */
export function logo(provider, size = 20) {
  const title = provider?.title ?? '?';
  const file = provider?.logo ?? '';
  const fallback = () => h('span', { class: 'logo logo-fallback', 'aria-hidden': 'true', dataset: { size } }, initials(title));
  if (!/^[A-Za-z0-9_.-]+\.(svg|png)$/.test(file)) return fallback();
  const img = h('img', { class: 'logo', src: `providers/${file}`, alt: '', width: size, height: size, dataset: { size } });
  img.addEventListener('error', () => img.replaceWith(fallback()), { once: true });
  return img;
}

export function initials(title) {
  const words = String(title).split(/[\s_-]+/).filter(Boolean);
  const s = words.length > 1 ? words[0][0] + words[1][0] : String(title).slice(0, 2);
  return s.toUpperCase();
}
