// A small popup menu of buttons anchored to a button; Esc or a click elsewhere closes it.
import { h } from '../lib/dom.js';

let open = null;

export function closeMenu() {
  if (!open) return;
  const { el, anchor } = open;
  open = null;
  el.remove();
  anchor.setAttribute('aria-expanded', 'false');
}

/** items: [{label, onSelect, danger?} | {checkbox: true, label, checked, onChange}] */
export function openMenu(anchor, items, label) {
  closeMenu();
  const el = h('div', { class: 'menu', role: 'menu', 'aria-label': label },
    items.map((it) => it.checkbox
      ? h('label', { class: 'menu-item menu-check' },
        h('input', { type: 'checkbox', checked: it.checked, on: { change: (e) => it.onChange(e.target.checked) } }), it.label)
      : h('button', {
        type: 'button', role: 'menuitem', class: ['menu-item', it.danger && 'danger'], text: it.label,
        on: { click: () => { closeMenu(); it.onSelect(); } },
      })));
  document.body.append(el);
  const r = anchor.getBoundingClientRect();
  const left = Math.min(r.left, window.innerWidth - el.offsetWidth - 8);
  const top = r.bottom + el.offsetHeight + 4 > window.innerHeight ? r.top - el.offsetHeight - 4 : r.bottom + 4;
  el.style.left = `${Math.max(8, left)}px`;
  el.style.top = `${Math.max(8, top)}px`;
  anchor.setAttribute('aria-expanded', 'true');
  open = { el, anchor };
  el.querySelector('button, input')?.focus();
  el.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.stopPropagation(); closeMenu(); anchor.focus(); }
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const all = [...el.querySelectorAll('button, input')];
      const i = all.indexOf(document.activeElement);
      all[(i + (e.key === 'ArrowDown' ? 1 : all.length - 1)) % all.length]?.focus();
    }
  });
}

document.addEventListener('mousedown', (e) => {
  if (open && !open.el.contains(e.target) && !open.anchor.contains(e.target)) closeMenu();
});
