// "New machine": a wizard in a modal dialog. cloud → location → size → image → SSH key →
// name/tags/user data → review → Create, then the machine's progress until it runs. Steps,
// validity and filtering come from lib/wizard.js and the provider's declared capabilities;
// catalogs come from the cache (with their age and a refresh button). Enter = Next, Esc =
// close (asks before discarding choices), Back keeps every choice.
import { h, replace } from '../lib/dom.js';
import {
  newState, stepsFor, stepValid, stepOfField, STEP_TITLES, withToken, dropUnfitting, cloudCreatable,
} from '../lib/wizard.js';
import { preselectedKey } from '../lib/keys.js';
import { api } from '../api.js';
import { app } from '../app.js';
import { confirmDialog } from './dialogs.js';
import { renderStep } from './wizard-steps.js';
import { renderProgress, startCreate } from './wizard-progress.js';

const KINDS = ['locations', 'sizes', 'images'];
let openWizardDialog = null;

/** Opens the wizard; `cloudId` preselects a cloud and starts at its first catalog step. */
export function openWizard({ cloudId = null } = {}) {
  if (openWizardDialog) {
    openWizardDialog.focus();
    return;
  }
  const opener = document.activeElement;
  const creatable = app.clouds.filter((c) => cloudCreatable(c, app.providersById.get(c.provider)).ok);
  const preselect = cloudId ?? (creatable.length === 1 ? creatable[0].id : null);
  const w = {
    state: newState({ cloudId: preselect }),
    step: 'cloud',
    cat: { locations: null, sizes: null, images: null },
    meta: {}, loading: {}, catErr: {},
    keys: [], keysLoaded: false,
    errors: {}, banner: null,
    dirty: false,
    phase: 'edit', // edit → creating → progress
    checking: false, checked: null,
    render: () => render(w),
  };
  const content = h('div', { class: 'wizard' });
  const dlg = h('dialog', { class: 'dialog dialog-wide wizard-dialog', id: 'wizard', 'aria-labelledby': 'wizard-title' }, content);
  w.dlg = dlg;
  w.content = content;
  openWizardDialog = dlg;
  dlg.addEventListener('close', () => {
    openWizardDialog = null;
    dlg.remove();
    opener?.focus?.();
  });
  dlg.addEventListener('cancel', (e) => {
    e.preventDefault();
    requestClose(w);
  });
  dlg.addEventListener('keydown', (e) => onKey(w, e));
  document.body.append(dlg);
  dlg.showModal();
  loadKeys(w);
  if (preselect) {
    loadCatalogs(w);
    if (cloudId) w.step = stepsFor(provider(w))[1];
  }
  render(w);
}

/** The tray's "New machine…" (and anything else that emits 'open-wizard'). */
app.addEventListener('open-wizard', () => openWizard());

export function cloudOf(w) {
  return app.cloudsById.get(w.state.cloudId) ?? null;
}

export function provider(w) {
  const c = cloudOf(w);
  return c ? app.providersById.get(c.provider) ?? null : null;
}

export function ctx(w) {
  return { cat: w.cat, provider: provider(w), keys: w.keys };
}

/** Marks the wizard changed and redraws (after any user choice). */
export function changed(w, { redraw = true } = {}) {
  w.dirty = true;
  w.checked = null;
  w.errors = {};
  w.banner = null;
  dropUnfitting(w.state, w.cat);
  if (redraw) render(w);
}

export async function loadKeys(w, selectId = null) {
  try {
    w.keys = await api.listKeys();
  } catch (e) {
    w.errors.key = `Could not read your SSH keys: ${e.message}`;
  }
  w.keysLoaded = true;
  if (selectId) w.state.keyId = selectId;
  else if (w.state.keyId === undefined) w.state.keyId = preselectedKey(w.keys)?.id;
  render(w);
}

/** Loads every catalog of the chosen cloud at once, so later steps open without waiting. */
export function loadCatalogs(w) {
  w.cat = { locations: null, sizes: null, images: null };
  w.meta = {};
  w.catErr = {};
  for (const kind of KINDS) loadCatalog(w, kind, false);
}

export async function loadCatalog(w, kind, refresh) {
  const cloud = w.state.cloudId;
  w.loading[kind] = true;
  w.catErr[kind] = null;
  render(w);
  try {
    const c = await api.catalog(cloud, kind, refresh);
    if (w.state.cloudId !== cloud) return;
    w.meta[kind] = c;
    w.cat[kind] = c.items;
  } catch (e) {
    if (w.state.cloudId !== cloud) return;
    if (e.code === 'not_supported') {
      w.meta[kind] = { unsupported: true };
      w.cat[kind] = null;
    } else {
      w.catErr[kind] = e.message;
    }
  } finally {
    if (w.state.cloudId === cloud) {
      w.loading[kind] = false;
      render(w);
    }
  }
}

/** Picks a cloud: a different one forgets the catalog choices (ids differ between clouds). */
export function pickCloud(w, id) {
  if (w.state.cloudId === id) return;
  Object.assign(w.state, { cloudId: id, location: null, size: null, image: null, arch: '', imageQuery: '' });
  loadCatalogs(w);
  changed(w);
}

function steps(w) {
  return stepsFor(provider(w));
}

export function go(w, step) {
  w.step = step;
  w.banner = null;
  render(w);
  if (step === 'review') runCheck(w);
}

export function next(w) {
  if (w.phase !== 'edit') return;
  const list = steps(w);
  const v = stepValid(w.step, w.state, ctx(w));
  if (!v.ok) {
    w.errors[v.field ?? w.step] = v.reason;
    render(w);
    return;
  }
  // The step is fine now: forget the errors shown on it (also those from an earlier create).
  for (const f of Object.keys(w.errors)) if (f === w.step || stepOfField(f) === w.step) delete w.errors[f];
  if (w.step === 'review') {
    create(w);
    return;
  }
  go(w, list[list.indexOf(w.step) + 1]);
}

export function back(w) {
  const list = steps(w);
  const i = list.indexOf(w.step);
  if (i > 0) go(w, list[i - 1]);
}

/** The review step asks the core to check everything before the user presses Create. */
async function runCheck(w) {
  const cloud = w.state.cloudId;
  const request = withToken(w.state, provider(w), () => crypto.randomUUID());
  w.checking = true;
  render(w);
  try {
    await api.checkCreate(cloud, request);
    w.checked = true;
  } catch (e) {
    w.checked = false;
    showError(w, e);
  } finally {
    w.checking = false;
    render(w);
  }
}

/** Puts an error at the step and field it concerns (the review's banner otherwise). */
export function showError(w, e) {
  const step = stepOfField(e.field);
  if (step !== 'review' && steps(w).includes(step)) {
    w.errors[e.field] = e.message;
    w.step = step;
  } else {
    w.banner = e.message;
    w.step = 'review';
  }
  render(w);
}

async function create(w) {
  if (w.checking || w.phase !== 'edit') return;
  await startCreate(w);
}

function onKey(w, e) {
  if (e.key !== 'Enter' || e.defaultPrevented || e.isComposing) return;
  const t = e.target;
  if (t.closest?.('textarea, button, a, select, [data-enter=own]')) return;
  e.preventDefault();
  next(w);
}

export async function requestClose(w) {
  if (w.phase === 'creating') return; // the create call is under way; its outcome comes first
  if (w.dirty && w.phase === 'edit') {
    const ok = await confirmDialog({
      title: 'Discard this new machine?',
      message: 'The choices you made in this wizard will be lost. Nothing has been created.',
      confirmLabel: 'Discard',
      danger: true,
    });
    if (!ok) return;
  }
  w.dlg.close();
}

/** Redraws the dialog, keeping the focus (and caret) on the control that had it. */
export function render(w) {
  if (!w.dlg?.isConnected) return;
  const active = document.activeElement;
  const focusId = active && w.dlg.contains(active) ? active.id : null;
  const caret = focusId && typeof active.selectionStart === 'number' ? [active.selectionStart, active.selectionEnd] : null;
  const list = steps(w);
  const body = w.phase === 'edit' ? renderStep(w) : renderProgress(w);
  const firstOpen = list.findIndex((s) => !stepValid(s, w.state, ctx(w)).ok);
  const reachable = firstOpen === -1 ? list.length - 1 : firstOpen;
  const crumbs = h('ol', { class: 'wizard-steps', 'aria-label': 'Steps' }, list.map((s, i) => {
    const current = w.phase === 'edit' && s === w.step;
    const done = i < reachable || (firstOpen === -1 && s !== 'review');
    const clickable = w.phase === 'edit' && i <= reachable && !current;
    return h('li', { class: ['wizard-crumb', current && 'current', done && 'done'], 'aria-current': current ? 'step' : null },
      h('button', { type: 'button', class: 'crumb-button', dataset: { step: s }, disabled: !clickable, on: { click: () => go(w, s) } },
        h('span', { class: 'crumb-n', text: String(i + 1) }), STEP_TITLES[s]));
  }));
  const close = h('button', { type: 'button', class: 'btn btn-ghost', 'aria-label': 'Close', text: '×', on: { click: () => requestClose(w) } });
  replace(w.content,
    h('div', { class: 'dialog-head' }, h('h2', { class: 'dialog-title', id: 'wizard-title', text: 'New machine' }), close),
    w.phase === 'edit' ? crumbs : null,
    body,
    w.phase === 'edit' ? footer(w, list) : null);
  // A new step (or the progress view) takes the focus to its first control, so Enter and the
  // arrow keys work at once; a redraw of the same step keeps the focus where it was.
  const view = `${w.phase}:${w.step}:${Boolean(w.content.querySelector('.wizard-step input, .wizard-step textarea'))}`;
  if (w.shownView !== view) {
    w.shownView = view;
    const first = w.content.querySelector('.wizard-step input[type=radio]:checked:not(:disabled)')
      ?? w.content.querySelector('.wizard-step input:not([type=radio]):not(:disabled), .wizard-step textarea, .wizard-step input[type=radio]:not(:disabled)')
      ?? w.content.querySelector('#wizard-next, #wizard-create, #wizard-close');
    first?.focus();
  } else if (focusId) {
    const el = w.dlg.querySelector(`#${CSS.escape(focusId)}`);
    if (el) {
      el.focus();
      if (caret) try { el.setSelectionRange(caret[0], caret[1]); } catch { /* not a text input */ }
    }
  }
}

function footer(w, list) {
  const i = list.indexOf(w.step);
  const isReview = w.step === 'review';
  return h('div', { class: 'dialog-buttons wizard-buttons' },
    h('button', { type: 'button', class: 'btn', id: 'wizard-back', text: 'Back', disabled: i <= 0, on: { click: () => back(w) } }),
    h('span', { class: 'muted small wizard-hint', text: 'Enter: next · Esc: close' }),
    h('span', { class: 'spacer' }),
    h('button', { type: 'button', class: 'btn', text: 'Cancel', on: { click: () => requestClose(w) } }),
    h('button', {
      type: 'button', class: ['btn', 'btn-primary', w.checking && 'busy'], id: isReview ? 'wizard-create' : 'wizard-next',
      disabled: isReview && (w.checking || w.checked === false),
      text: isReview ? (w.checking ? 'Checking…' : 'Create machine') : 'Next',
      on: { click: () => next(w) },
    }));
}
