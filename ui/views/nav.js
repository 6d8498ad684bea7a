// Navigation between the window's pages: Machines (the table), Keys and Activity. The
// sidebar gets a small nav under the brand; the other pages draw into one #page section that
// replaces the machine table while shown. Clicking a cloud in the sidebar goes back to Machines.
import { h } from '../lib/dom.js';
import { app } from '../app.js';
import { showKeys } from './keys.js';
import { showActivity } from './activity.js';

const PAGES = [
  { id: 'machines', label: 'Machines', show: null },
  { id: 'keys', label: 'SSH keys', show: showKeys },
  { id: 'activity', label: 'Activity', show: showActivity },
];

let current = 'machines';
let pageRoot = null;
const buttons = new Map();

export function currentPage() {
  return current;
}

export function showPage(id) {
  const page = PAGES.find((p) => p.id === id) ?? PAGES[0];
  current = page.id;
  document.body.dataset.page = page.id;
  for (const [pid, b] of buttons) {
    b.classList.toggle('active', pid === page.id);
    if (pid === page.id) b.setAttribute('aria-current', 'page');
    else b.removeAttribute('aria-current');
  }
  pageRoot.hidden = !page.show;
  if (page.show) page.show(pageRoot);
  app.emit('page');
}

/** Adds the nav under the sidebar's brand and the #page section to `main`. */
export function createNav(sidebar, main) {
  const nav = h('nav', { class: 'page-nav', 'aria-label': 'Pages' },
    PAGES.map((p) => {
      const b = h('button', { type: 'button', class: 'page-link', id: `nav-${p.id}`, dataset: { page: p.id }, text: p.label, on: { click: () => showPage(p.id) } });
      buttons.set(p.id, b);
      return b;
    }));
  const brand = sidebar.querySelector('.brand');
  if (brand) brand.after(nav);
  else sidebar.prepend(nav);
  pageRoot = h('section', { id: 'page', class: 'page', hidden: true });
  main.append(pageRoot);
  // A cloud picked in the sidebar means "show me its machines".
  sidebar.addEventListener('click', (e) => {
    if (current !== 'machines' && e.target.closest?.('.cloud-button')) showPage('machines');
  });
  showPage('machines');
}
