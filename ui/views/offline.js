// The offline banner: when no cloud can be reached, the window keeps showing the machines as
// last seen, says since when, and pauses actions until a cloud answers again.
import { h, replace } from '../lib/dom.js';
import { relativeTime } from '../lib/status.js';
import { app } from '../app.js';

export function createOfflineBanner(before) {
  const root = h('div', { class: 'offline-banner', id: 'offline-banner', role: 'status', hidden: true });
  before.before(root);
  const draw = () => {
    root.hidden = !app.offline;
    document.body.classList.toggle('offline', app.offline);
    if (!app.offline) return replace(root);
    const seen = app.lastSeen
      ? `Showing machines as last seen ${relativeTime(app.lastSeen)} (${new Date(app.lastSeen).toLocaleString()}).`
      : 'Showing the machines Skydeck knew before.';
    replace(root,
      h('p', { class: 'offline-text' }, h('strong', { text: 'Offline' }),
        ` — no cloud can be reached. ${seen} Actions are paused; Skydeck keeps retrying in the background.`),
      h('button', { type: 'button', class: 'btn btn-small', id: 'offline-retry', text: 'Retry now', disabled: app.refreshing, on: { click: () => app.refresh() } }));
  };
  app.on('offline refresh', draw);
  setInterval(() => { if (app.offline) draw(); }, 30_000);
  draw();
}
