// Short messages at the bottom right: what happened, what to do. Errors stay longer.
import { h } from '../lib/dom.js';

export function toast(message, kind = 'info') {
  const host = document.getElementById('toasts');
  if (!host) return;
  const close = h('button', { class: 'toast-close', type: 'button', 'aria-label': 'Dismiss', text: '×' });
  const el = h('div', { class: ['toast', `toast-${kind}`], role: kind === 'error' ? 'alert' : 'status' }, h('span', { text: message }), close);
  const remove = () => el.remove();
  close.addEventListener('click', remove);
  host.append(el);
  setTimeout(remove, kind === 'error' ? 12_000 : 5_000);
}
