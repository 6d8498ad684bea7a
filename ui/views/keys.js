// The SSH keys page: every key (name, type, fingerprint, default badge, created), generate an
// ed25519 key, import a public or private key (passphrase-protected too), set the default,
// rename, copy the public key, export the private key (asks first; Rust writes the file), delete.
import { h, replace } from '../lib/dom.js';
import { keyType, sortKeys, freeKeyName, pastedKeyKind } from '../lib/keys.js';
import { relativeTime } from '../lib/status.js';
import { api } from '../api.js';
import { modal, promptDialog, confirmDialog } from './dialogs.js';
import { openMenu } from './menu.js';
import { toast } from './toast.js';

let keys = [];
let root = null;

export async function showKeys(el) {
  root = el;
  draw({ loading: true });
  await reload();
}

async function reload() {
  try {
    keys = await api.listKeys();
    draw({});
  } catch (e) {
    draw({ error: e.message });
  }
}

function draw({ loading = false, error = null }) {
  if (!root) return;
  const head = h('header', { class: 'page-head' },
    h('h1', { text: 'SSH keys' }),
    h('span', { class: 'spacer' }),
    h('button', { type: 'button', class: 'btn', id: 'import-key', text: 'Import key…', on: { click: openImport } }),
    h('button', { type: 'button', class: 'btn btn-primary', id: 'generate-key', text: 'Generate key…', on: { click: openGenerate } }));
  const intro = h('p', { class: 'muted page-intro', text: 'Keys Skydeck puts on new machines. Private keys stay in your system keychain; each provider gets the public key the way it needs it.' });
  let body;
  if (loading) body = h('p', { class: 'muted', text: 'Loading keys…' });
  else if (error) body = h('p', { class: 'form-error banner', role: 'alert', text: `Could not read the keys: ${error}` });
  else if (!keys.length) body = h('div', { class: 'page-empty' }, h('p', { text: 'No SSH keys yet. Generate one, or import the public key you already use (~/.ssh/id_ed25519.pub).' }));
  else body = keyTable(sortKeys(keys));
  replace(root, head, intro, body);
}

function keyTable(list) {
  return h('table', { class: 'data-table keys-table', id: 'keys-table' },
    h('thead', {}, h('tr', {}, ['Name', 'Type', 'Fingerprint', 'Created', ''].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, list.map(keyRow)));
}

function keyRow(k) {
  const more = h('button', { type: 'button', class: 'btn btn-ghost btn-small key-more', 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-label': `More actions for key ${k.name}`, text: '⋯' });
  more.addEventListener('click', () => openMenu(more, [
    { label: 'Rename…', onSelect: () => renameKey(k) },
    ...(k.has_private ? [{ label: 'Export private key…', onSelect: () => exportKey(k) }] : []),
    { label: 'Delete…', danger: true, onSelect: () => deleteKey(k) },
  ], `Actions for ${k.name}`));
  return h('tr', { dataset: { keyId: k.id, keyName: k.name } },
    h('td', { class: 'key-name' }, h('span', { text: k.name }),
      k.is_default ? h('span', { class: 'badge badge-accent', text: 'default' }) : null,
      k.has_private ? null : h('span', { class: 'badge', title: 'Imported as a public key: Skydeck has no private key for it.', text: 'public only' })),
    h('td', { text: keyType(k.algorithm) }),
    h('td', { class: 'mono fingerprint', title: k.public_key, text: k.fingerprint }),
    h('td', { title: new Date(k.created_at).toLocaleString(), text: relativeTime(k.created_at) }),
    h('td', { class: 'row-actions' },
      h('button', { type: 'button', class: 'btn btn-small', dataset: { act: 'copy' }, text: 'Copy public key', on: { click: () => copyPublic(k) } }),
      k.is_default ? null : h('button', { type: 'button', class: 'btn btn-small', dataset: { act: 'default' }, text: 'Make default', on: { click: () => makeDefault(k) } }),
      more));
}

async function copyPublic(k) {
  try {
    await api.copyText(k.public_key);
    toast(`Copied the public key of '${k.name}'.`);
  } catch (e) {
    toast(`Could not copy: ${e.message}`, 'error');
  }
}

async function makeDefault(k) {
  try {
    await api.setDefaultKey(k.id);
    toast(`'${k.name}' is now the default key for new machines.`);
  } catch (e) {
    toast(e.message, 'error');
  }
  await reload();
}

/** Generates a key; resolves with it (or null). Also used by the wizard's key step. */
export async function openGenerate() {
  let made = null;
  let existing = keys;
  try {
    existing = await api.listKeys();
  } catch { /* the name suggestion is only a convenience */ }
  await promptDialog({
    title: 'Generate an SSH key',
    label: 'Name',
    value: freeKeyName(existing, 'skydeck'),
    help: 'A new ed25519 key. Its private half is kept in your system keychain.',
    confirmLabel: 'Generate',
    save: async (name) => {
      made = await api.generateKey(name);
    },
  });
  if (made) {
    toast(`Generated '${made.name}' (${made.fingerprint}).`);
    if (root?.isConnected) await reload();
  }
  return made;
}

/** A labelled control with a place for its error, as the import and export forms use. */
function field(id, label, control, help = '') {
  return h('div', { class: 'field', dataset: { field: id } },
    h('label', { for: control.id, class: 'field-label', text: label }),
    control,
    help ? h('p', { class: 'field-help', text: help }) : null,
    h('p', { class: 'field-error', role: 'alert', hidden: true }));
}

function showFieldError(container, name, message) {
  const row = container.querySelector(`.field[data-field="${name}"]`);
  if (!row) return false;
  const err = row.querySelector('.field-error');
  err.textContent = message;
  err.hidden = false;
  const control = row.querySelector('input, textarea');
  control?.setAttribute('aria-invalid', 'true');
  control?.focus();
  return true;
}

function clearFieldErrors(container) {
  for (const e of container.querySelectorAll('.field-error')) { e.hidden = true; e.textContent = ''; }
  for (const c of container.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
}

function openImport() {
  const name = h('input', { id: 'import-name', type: 'text', autocomplete: 'off', spellcheck: 'false' });
  const text = h('textarea', { id: 'import-text', rows: 7, spellcheck: 'false', autocomplete: 'off', placeholder: 'ssh-ed25519 AAAA… you@laptop\n\nor the whole private key file (-----BEGIN OPENSSH PRIVATE KEY----- …)' });
  const file = h('input', { id: 'import-file', type: 'file', 'aria-label': 'Read the key from a file' });
  const pass = h('input', { id: 'import-passphrase', type: 'password', autocomplete: 'off' });
  const passRow = field('passphrase', 'Passphrase', pass, 'This private key is protected: enter its passphrase once. Skydeck keeps the key in your keychain.');
  const kindNote = h('p', { class: 'field-help', id: 'import-kind', 'aria-live': 'polite' });
  const sync = () => {
    const kind = pastedKeyKind(text.value);
    passRow.hidden = kind !== 'encrypted' && !passRow.dataset.forced;
    // A pasted private key is masked like a password once it is in the box.
    text.classList.toggle('masked', kind === 'private' || kind === 'encrypted');
    kindNote.textContent = {
      public: 'A public key: machines get it; Skydeck cannot export a private key for it.',
      private: 'A private key: the public half is derived from it; the private half goes to your keychain.',
      encrypted: 'A passphrase-protected private key.',
      pem: 'A PEM private key: convert a copy to the OpenSSH format with `ssh-keygen -p -f FILE` first.',
      unknown: 'This does not look like an OpenSSH key.',
      empty: '',
    }[kind];
    if (!name.value.trim() && kind === 'public') name.value = text.value.trim().split(/\s+/)[2] ?? '';
  };
  text.addEventListener('input', sync);
  file.addEventListener('change', async () => {
    const f = file.files?.[0];
    if (!f) return;
    text.value = await f.text();
    if (!name.value.trim()) name.value = f.name.replace(/\.pub$/, '').replace(/^id_/, '');
    sync();
  });
  const body = [
    field('name', 'Name', name),
    field('key', 'Public or private key', text, ''),
    h('div', { class: 'import-file' }, h('label', { for: 'import-file', class: 'muted small', text: 'or read it from a file: ' }), file),
    kindNote,
    passRow,
  ];
  const holder = h('div', {}, body);
  sync();
  return modal({
    title: 'Import an SSH key',
    body: [holder],
    confirmLabel: 'Import',
    wide: true,
    onConfirm: async () => {
      clearFieldErrors(holder);
      try {
        const key = await api.importKey({ name: name.value, key: text.value, passphrase: pass.value ? pass.value : null });
        toast(`Imported '${key.name}' (${key.fingerprint}).`);
        await reload();
        return key;
      } catch (e) {
        if (e.field === 'passphrase') { passRow.dataset.forced = '1'; passRow.hidden = false; }
        if (showFieldError(holder, e.field ?? '', e.message)) return false;
        throw e;
      }
    },
  });
}

function renameKey(k) {
  return promptDialog({
    title: `Rename key '${k.name}'`, label: 'Name', value: k.name,
    save: async (name) => {
      await api.renameKey(k.id, name);
      await reload();
    },
  });
}

async function deleteKey(k) {
  const ok = await confirmDialog({
    title: `Delete key '${k.name}'?`,
    message: 'Skydeck forgets this key and deletes its private half from your keychain. Machines that already have it keep it, and providers keep their registered copy. Export the private key first if you still need it.',
    confirmLabel: 'Delete key',
    danger: true,
  });
  if (!ok) return;
  try {
    await api.deleteKey(k.id);
    toast(`Deleted '${k.name}'.`);
  } catch (e) {
    toast(`Could not delete '${k.name}': ${e.message}`, 'error');
  }
  await reload();
}

/** Asks first, with an optional passphrase; then Rust asks where to save and writes the file. */
function exportKey(k) {
  const pass = h('input', { id: 'export-passphrase', type: 'password', autocomplete: 'new-password' });
  const again = h('input', { id: 'export-passphrase-again', type: 'password', autocomplete: 'new-password' });
  const holder = h('div', {},
    h('p', { text: `Anyone who gets this file can log in to every machine that trusts '${k.name}'. Keep it private.` }),
    field('passphrase', 'Protect the file with a passphrase (recommended)', pass),
    field('passphrase-again', 'Repeat the passphrase', again),
    h('p', { class: 'field-help', text: 'Next, choose where to save it. The file is readable only by you.' }));
  return modal({
    title: `Export the private key of '${k.name}'?`,
    body: [holder],
    confirmLabel: 'Choose where to save…',
    danger: true,
    onConfirm: async () => {
      clearFieldErrors(holder);
      if (pass.value !== again.value) {
        showFieldError(holder, 'passphrase-again', 'The two passphrases differ.');
        return false;
      }
      try {
        const path = await api.exportPrivateKey(k.id, pass.value || null);
        if (!path) return false; // the save dialog was cancelled: stay here
        toast(`Saved the private key of '${k.name}' to ${path}${pass.value ? ' (protected by your passphrase)' : ''}.`);
        return path;
      } catch (e) {
        if (showFieldError(holder, e.field ?? '', e.message)) return false;
        throw e;
      }
    },
  });
}
