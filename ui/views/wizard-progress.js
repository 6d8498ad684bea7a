// After "Create machine": the create call, then the machine's way from requested through
// pending to running (streamed from Rust), and when it runs its IP and SSH command. A failed
// create goes back to the step it concerns with every choice kept (and the same idempotency
// token, so retrying the same request can never make a second machine).
import { h } from '../lib/dom.js';
import { PROGRESS, progressIndex, withToken } from '../lib/wizard.js';
import { machineKey } from '../lib/machines.js';
import { api } from '../api.js';
import { app } from '../app.js';
import { toast } from './toast.js';
import { provider, cloudOf, render, showError } from './wizard.js';

export async function startCreate(w) {
  const cloud = w.state.cloudId;
  const request = withToken(w.state, provider(w), () => crypto.randomUUID());
  w.phase = 'creating';
  w.progress = { state: 'requested', raw: '', machine: null, running: null, error: null };
  render(w);
  let m;
  try {
    m = await api.createMachine(cloud, request);
  } catch (e) {
    w.phase = 'edit';
    // A transient failure may be retried as it is: Create stays enabled.
    w.checked = null;
    showError(w, e);
    return;
  }
  w.phase = 'progress';
  setMachine(w, m);
  render(w);
  try {
    const r = await api.waitRunning(cloud, m.id, (p) => {
      setMachine(w, p.machine);
      render(w);
    });
    w.progress.running = r;
    setMachine(w, r.machine);
  } catch (e) {
    w.progress.error = e;
  }
  render(w);
  if (!w.dlg.isConnected) {
    // The wizard was closed meanwhile: say how it ended.
    const name = m.name || m.id;
    if (w.progress.error) toast(`'${name}': ${w.progress.error.message}`, 'error');
    else toast(`'${name}' is running.`);
  }
}

function setMachine(w, m) {
  w.progress.machine = m;
  w.progress.state = m.state;
  w.progress.raw = m.raw_state;
  app.upsertMachine(m);
}

export function renderProgress(w) {
  const p = w.progress ?? { state: 'requested' };
  const m = p.machine;
  const at = p.error ? -1 : progressIndex(p.state);
  const cloud = cloudOf(w);
  const line = h('ol', { class: 'progress-line', 'aria-label': 'Progress' }, PROGRESS.map((s, i) =>
    h('li', { class: ['progress-step', i < at && 'done', i === at && !p.running && 'current', p.running && 'done'], dataset: { step: s } },
      h('span', { class: 'progress-dot', 'aria-hidden': 'true' }), s)));
  const title = m ? m.name || m.id : w.state.name;
  const status = w.phase === 'creating'
    ? `Sending the request to ${cloud?.title ?? 'the cloud'}…`
    : p.running ? 'The machine is running.'
      : p.error ? 'The machine was created, but it did not reach running.'
        : `Waiting for it to run (the provider says: ${p.raw || p.state}). This can take a minute.`;
  return h('section', { class: 'wizard-progress', id: 'wizard-progress', dataset: { state: p.error ? 'error' : p.running ? 'running' : p.state }, 'aria-live': 'polite' },
    h('h3', { class: 'progress-title', text: title }),
    m ? h('p', { class: 'muted small mono', text: `${cloud?.title ?? ''} · ${m.id}` }) : null,
    line,
    h('p', { class: ['progress-status', !p.running && !p.error && 'busy-text'], id: 'wizard-status', text: status }),
    p.running ? runningInfo(p.running) : null,
    p.error ? h('p', { class: 'form-error banner', role: 'alert', id: 'wizard-wait-error', text: p.error.message }) : null,
    h('div', { class: 'dialog-buttons wizard-buttons' },
      h('span', { class: 'spacer' }),
      m ? h('button', {
        type: 'button', class: 'btn', id: 'wizard-show', text: 'Show in machine list',
        on: { click: () => { w.dlg.close(); app.openDetails(machineKey(m)); } },
      }) : null,
      h('button', {
        type: 'button', class: ['btn', p.running && 'btn-primary'], id: 'wizard-close', text: 'Close', disabled: w.phase === 'creating',
        on: { click: () => w.dlg.close() },
      })));
}

function runningInfo(r) {
  const m = r.machine;
  const ips = [...(m.public_ips ?? []), ...(m.private_ips ?? [])];
  return h('div', { class: 'running-info' },
    h('dl', { class: 'kv' },
      h('dt', { text: 'IP' }), h('dd', { class: 'mono', id: 'wizard-ip', text: ips.length ? ips.join(', ') : 'none yet' }),
      r.ssh_command ? [h('dt', { text: 'SSH' }), h('dd', {}, h('code', { class: 'mono', id: 'wizard-ssh', text: r.ssh_command }))] : null),
    r.ssh_command ? h('button', {
      type: 'button', class: 'btn btn-primary', id: 'copy-ssh', text: 'Copy SSH command',
      on: { click: async () => {
        try {
          await api.copyText(r.ssh_command);
          toast('Copied the SSH command.');
        } catch (e) {
          toast(`Could not copy: ${e.message}`, 'error');
        }
      } },
    }) : h('p', { class: 'muted small', text: 'No IP address yet: the SSH command appears in the machine’s details once it has one.' }));
}
