// Zero-setup onboarding: hosts found on this computer (Docker/Podman, libvirt sockets) and,
// when there is nothing at all, a demo connection — each added with one click. Shown in the
// empty state and at the top of the "Add cloud" dialog.
import { h, logo, replace } from '../lib/dom.js';
import { api } from '../api.js';
import { app } from '../app.js';

/** Where a detected host lives, for the card's second line (never markup: text only). */
function hostDetail(host) {
  return Object.values(host.fields ?? {}).join(' · ');
}

/**
 * A section that looks for local hosts and offers each one. `onAdded(cloud)` runs after a
 * host was added (e.g. to close the surrounding dialog).
 */
export function localHostsSection({ onAdded = () => {} } = {}) {
  const list = h('div', { class: 'local-hosts-list', role: 'list' });
  const title = h('h3', { class: 'section-title', text: 'Found on this computer' });
  const section = h('section', { class: 'local-hosts', 'aria-label': 'Found on this computer', hidden: true }, title, list);

  const card = (host, demo, providers) => {
    const provider = providers.find((p) => p.id === host.provider);
    const button = h('button', { type: 'button', class: 'btn btn-primary', dataset: { addHost: host.provider }, text: demo ? 'Try the demo' : 'Add' });
    const status = h('span', { class: 'muted small local-host-status', role: 'status' });
    button.addEventListener('click', async () => {
      button.disabled = true;
      status.classList.remove('error');
      status.textContent = 'Connecting…';
      try {
        const cloud = await api.addDetectedHost(host);
        status.textContent = '';
        await app.cloudAdded(cloud);
        onAdded(cloud);
        section.remove();
      } catch (e) {
        status.classList.add('error');
        status.textContent = e.message;
        button.disabled = false;
      }
    });
    return h('div', { class: 'local-host', role: 'listitem' },
      provider ? logo(provider, 28) : null,
      h('div', { class: 'local-host-text' },
        h('div', { class: 'local-host-title', text: host.title }),
        h('div', { class: 'muted small', text: demo ? 'Nothing found here: explore Skydeck with libvirt\'s built-in test host.' : hostDetail(host) }),
        status),
      button);
  };

  // The providers may still be loading when this runs (first paint): ask for them too.
  Promise.all([api.detectLocalHosts(), app.providers?.length ? app.providers : api.listProviders()]).then(([{ detected, demo }, providers]) => {
    const cards = detected.map((d) => card(d, false, providers));
    if (demo) cards.push(card(demo, true, providers));
    if (!cards.length) return;
    if (!detected.length) title.textContent = 'Try it without an account';
    replace(list, cards);
    section.hidden = false;
  }).catch(() => { /* detection is a convenience: stay hidden if it fails */ });
  return section;
}
