// With no cloud yet, the window invites the user to add one instead of showing an empty table.
import { h, replace } from '../lib/dom.js';
import { app } from '../app.js';
import { openAddCloud } from './add-cloud.js';
import { localHostsSection } from './local-hosts.js';

export function createEmptyState(root) {
  replace(root,
    h('div', { class: 'empty-card' },
      h('img', { class: 'empty-art', src: 'app-icon.png', alt: '', width: 96, height: 96 }),
      h('h1', { text: 'Welcome to Skydeck' }),
      h('p', { text: 'Every machine you run, on every cloud, in one list. Add a cloud account to see its machines here.' }),
      h('button', { type: 'button', class: 'btn btn-primary btn-large', id: 'empty-add-cloud', text: 'Add your first cloud', on: { click: openAddCloud } }),
      localHostsSection(),
      h('p', { class: 'muted small', text: 'Credentials are kept in your system keychain, never in plain files.' })));
  const draw = () => {
    const none = app.loaded && app.clouds.length === 0;
    root.hidden = !none;
    document.body.classList.toggle('no-clouds', none);
  };
  app.on('clouds view', draw);
  draw();
}
