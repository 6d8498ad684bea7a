// Short messages at the bottom right: what happened, what to do. Errors stay longer.
import { h } from '../lib/dom.js';

/**
 * Where a toast shows: a modal dialog sits in the browser's top layer, above everything else
 * in the page, so while one is open its toasts go inside it (same bottom-right place).
 */
function toastHost() {
  const open = [...document.querySelectorAll('dialog[open]')].pop();
  if (!open) return document.getElementById('toasts');
  let host = open.querySelector(':scope > .toasts');
  if (!host) {
    host = h('div', { class: 'toasts', 'aria-live': 'polite' });
    open.append(host);
  }
  return host;
}

export function toast(message, kind = 'info') {
  const host = toastHost();
  if (!host) return;
  const close = h('button', { class: 'toast-close', type: 'button', 'aria-label': 'Dismiss', text: '×' });
  const el = h('div', { class: ['toast', `toast-${kind}`], role: kind === 'error' ? 'alert' : 'status' }, h('span', { text: message }), close);
  const remove = () => el.remove();
  close.addEventListener('click', remove);
  host.append(el);
  setTimeout(remove, kind === 'error' ? 12_000 : 5_000);
}
