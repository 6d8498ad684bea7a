// Boots the window: builds the views and wires the global keys.
import { app } from './app.js';
import { startLive } from './live.js';
import { createSidebar } from './views/sidebar.js';
import { createToolbar } from './views/toolbar.js';
import { createTable } from './views/table.js';
import { createDetails } from './views/details.js';
import { createEmptyState } from './views/empty.js';
import { createResizer } from './views/resizer.js';
import { closeMenu } from './views/menu.js';
import { createNav } from './views/nav.js';
import { createSettingsButton } from './views/settings.js';
import { createOfflineBanner } from './views/offline.js';
import { openWizard } from './views/wizard.js';

const $ = (id) => document.getElementById(id);

createSidebar($('sidebar'));
createToolbar($('toolbar'), $('chips'), $('bulkbar'));
createTable($('table'));
createDetails($('details'));
createEmptyState($('empty'));
createResizer($('resizer'));
createNav($('sidebar'), $('main'));
createSettingsButton($('sidebar'));
createOfflineBanner($('table'));
// The tray's "New machine…" (the Rust side shows the window, then asks for the wizard).
app.on('open-wizard', () => openWizard());

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

// Live events are subscribed before the cache is read, so no refresh is missed.
startLive(app).finally(() => app.start());
