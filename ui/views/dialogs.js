// Modal dialogs on <dialog>: Esc cancels, Enter confirms, focus returns to where it was.
import { h } from '../lib/dom.js';

/**
 * Opens a modal with `body` nodes and a confirm button. `onConfirm()` may return false (stay
 * open) or throw {message} (shown in the dialog). Resolves with the confirm result or null.
 */
export function modal({ title, body = [], confirmLabel = 'OK', danger = false, canConfirm = () => true, onConfirm = () => true, wide = false }) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const cancel = h('button', { type: 'button', class: 'btn', text: 'Cancel' });
    const ok = h('button', { type: 'submit', class: ['btn', danger ? 'btn-danger' : 'btn-primary'], text: confirmLabel });
    const form = h('form', { class: 'dialog-form', novalidate: true },
      h('h2', { class: 'dialog-title', text: title }),
      body, error,
      h('div', { class: 'dialog-buttons' }, cancel, ok));
    const dlg = h('dialog', { class: ['dialog', wide && 'dialog-wide'] }, form);
    let result = null;
    const sync = () => { ok.disabled = !canConfirm(); };
    form.addEventListener('input', sync);
    cancel.addEventListener('click', () => dlg.close());
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (!canConfirm()) return;
      ok.disabled = true;
      error.hidden = true;
      try {
        const r = await onConfirm();
        if (r === false) return;
        result = r === undefined ? true : r;
        dlg.close();
      } catch (e) {
        error.textContent = e?.message ?? String(e);
        error.hidden = false;
      } finally {
        sync();
      }
    });
    dlg.addEventListener('close', () => {
      dlg.remove();
      opener?.focus?.();
      resolve(result);
    });
    document.body.append(dlg);
    sync();
    dlg.showModal();
    // A destructive confirmation starts on Cancel, so a stray Enter never destroys anything.
    (form.querySelector('input, textarea, select') ?? (danger ? cancel : ok)).focus();
  });
}

export function confirmDialog({ title, message, confirmLabel = 'OK', danger = false }) {
  return modal({ title, body: [h('p', { text: message })], confirmLabel, danger });
}

/** Asks for one value; `save(value)` runs before closing and may throw an error body. */
export function promptDialog({ title, label, value = '', help = '', multiline = false, confirmLabel = 'Save', save }) {
  const input = multiline
    ? h('textarea', { id: 'prompt-input', rows: 8, spellcheck: 'false' })
    : h('input', { id: 'prompt-input', type: 'text', autocomplete: 'off', spellcheck: 'false' });
  input.value = value;
  const body = [
    h('label', { for: 'prompt-input', class: 'field-label', text: label }),
    input,
    help && h('p', { class: 'field-help', text: help }),
  ];
  return modal({
    title, body, confirmLabel,
    onConfirm: async () => {
      await save(input.value);
      return input.value;
    },
  });
}

/** Destructive confirmation: enabled only once the user typed `expected` exactly. */
export function typeToConfirm({ title, message, expected, confirmLabel, check }) {
  const input = h('input', { id: 'confirm-input', type: 'text', autocomplete: 'off', spellcheck: 'false' });
  const body = [
    h('p', { text: message }),
    h('label', { for: 'confirm-input', class: 'field-label' }, 'Type ', h('code', { text: expected }), ' to confirm'),
    input,
  ];
  return modal({ title, body, confirmLabel, danger: true, canConfirm: () => check(input.value) });
}
