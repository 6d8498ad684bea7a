// Boots the window: builds the views and wires the global keys.
import { app } from './app.js';
import { createSidebar } from './views/sidebar.js';
import { createToolbar } from './views/toolbar.js';
import { createTable } from './views/table.js';
import { createDetails } from './views/details.js';
import { createEmptyState } from './views/empty.js';
import { createResizer } from './views/resizer.js';
import { closeMenu } from './views/menu.js';

const $ = (id) => document.getElementById(id);

createSidebar($('sidebar'));
createToolbar($('toolbar'), $('chips'), $('bulkbar'));
createTable($('table'));
createDetails($('details'));
createEmptyState($('empty'));
createResizer($('resizer'));

document.addEventListener('keydown', (e) => {
  if (document.querySelector('dialog[open]')) return; // dialogs handle their own keys (Esc closes)
  const typing = e.target.closest?.('input, textarea, select, [contenteditable]');
  if (e.key === '/' && !typing) {
    e.preventDefault();
    $('filter')?.focus();
    $('filter')?.select();
  } else if (e.key === 'Escape') {
    closeMenu();
    if (app.detailsKey) {
      app.openDetails(null);
      $('machines-grid')?.focus();
    }
  }
});

app.start();
