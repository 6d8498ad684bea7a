import { test } from 'node:test';
import assert from 'node:assert/strict';
import { controlFor, formModel, initialValues, missingRequired, toNewCloud, searchProviders, placeError } from '../../ui/lib/forms.js';

// A provider as `list_providers` returns it (shape of the core's ProviderSpec).
const provider = {
  id: 'acme', title: 'Acme Cloud', logo: 'acme.svg', legacy: false,
  fields: [
    { key: 'key_id', label: 'Key ID', kind: 'text', required: true, help: 'From the console', placeholder: 'AK…', default: null, advanced: false, options: [] },
    { key: 'secret', label: 'Secret', kind: 'secret', required: true, help: '', placeholder: '', default: null, advanced: false, options: [] },
    { key: 'region', label: 'Region', kind: 'select', required: true, help: '', placeholder: '', default: null, advanced: false, options: ['eu-1', 'us-2'] },
    { key: 'notes', label: 'Notes', kind: 'textarea', required: false, help: '', placeholder: '', default: null, advanced: false, options: [] },
    { key: 'account_file', label: 'Account file', kind: 'file', required: false, help: '', placeholder: '', default: null, advanced: false, options: [] },
    { key: 'endpoint', label: 'API endpoint', kind: 'url', required: false, help: 'Only for emulators', placeholder: 'https://api.acme', default: null, advanced: true, options: [] },
    { key: 'zone', label: 'Zone', kind: 'text', required: true, help: '', placeholder: '', default: 'z1', advanced: false, options: [] },
  ],
};

test('each field kind gets its control; secrets are password inputs', () => {
  assert.deepEqual(controlFor('secret'), { tag: 'input', type: 'password' });
  assert.deepEqual(controlFor('url'), { tag: 'input', type: 'url' });
  assert.deepEqual(controlFor('select'), { tag: 'select' });
  assert.deepEqual(controlFor('textarea'), { tag: 'textarea' });
  assert.deepEqual(controlFor('file'), { tag: 'input', type: 'file' });
  assert.deepEqual(controlFor('text'), { tag: 'input', type: 'text' });
  // A PEM key keeps its line breaks: a masked text area, not a password input.
  assert.deepEqual(controlFor('secret', true), { tag: 'textarea', masked: true });
  assert.deepEqual(controlFor('text', true), { tag: 'textarea', masked: false });
  assert.deepEqual(controlFor('url', true), { tag: 'input', type: 'url' });
});

test('multi-line secret values keep their line breaks when submitted', () => {
  const p = { id: 'x', title: 'X', fields: [{ key: 'key', label: 'Key', kind: 'secret', multiline: true, required: true, options: [] }] };
  assert.equal(formModel(p).basic[0].control.tag, 'textarea');
  const pem = '-----BEGIN PRIVATE KEY-----\nMIIB\nAAAA\n-----END PRIVATE KEY-----';
  assert.equal(toNewCloud(p, { title: 't', key: `${pem}\n` }).fields.key, pem);
});

test('the form has a title, the basic fields in order, and advanced ones apart', () => {
  const m = formModel(provider);
  assert.equal(m.title.key, 'title');
  assert.deepEqual(m.basic.map((f) => f.key), ['key_id', 'secret', 'region', 'notes', 'account_file', 'zone']);
  assert.deepEqual(m.advanced.map((f) => f.key), ['endpoint']);
  assert.equal(m.basic.find((f) => f.key === 'secret').control.type, 'password');
  assert.equal(m.basic[0].help, 'From the console');
  assert.equal(m.basic[0].id, 'field-key_id');
});

test('initial values use defaults and the first option of a select', () => {
  const v = initialValues(provider);
  assert.equal(v.zone, 'z1');
  assert.equal(v.region, 'eu-1');
  assert.equal(v.key_id, '');
  assert.equal(v.title, 'Acme Cloud');
});

test('required fields are checked before any network call; defaults count as filled', () => {
  const v = { ...initialValues(provider), zone: '', title: ' ' };
  const errors = missingRequired(provider, v);
  assert.deepEqual(Object.keys(errors).sort(), ['key_id', 'secret', 'title']);
  assert.match(errors.key_id, /Key ID is required/);
  const filled = { ...v, title: 'work', key_id: 'AKID', secret: 's3cr3t' };
  assert.deepEqual(missingRequired(provider, filled), {});
});

test('the submitted cloud has trimmed non-empty values of declared fields only', () => {
  const v = { title: '  work ', key_id: ' AKID ', secret: 'pa ss', region: 'us-2', notes: '', endpoint: 'http://127.0.0.1:5000', injected: 'x', zone: 'z1' };
  assert.deepEqual(toNewCloud(provider, v), {
    provider: 'acme', title: 'work',
    fields: { key_id: 'AKID', secret: 'pa ss', region: 'us-2', endpoint: 'http://127.0.0.1:5000', zone: 'z1' },
  });
});

test('provider search matches title or id; legacy providers come last', () => {
  const list = [
    { id: 'b', title: 'Beta', legacy: true },
    { id: 'a', title: 'Alpha', legacy: false },
    { id: 'zeta', title: 'Zeta Hosting', legacy: false },
  ];
  assert.deepEqual(searchProviders(list, '').map((p) => p.id), ['a', 'zeta', 'b']);
  assert.deepEqual(searchProviders(list, 'HOST').map((p) => p.id), ['zeta']);
  assert.deepEqual(searchProviders(list, 'b').map((p) => p.id), ['b']);
  assert.deepEqual(searchProviders(list, 'nothing'), []);
});

test('core errors land at the field they name, else at the top of the form', () => {
  assert.deepEqual(placeError(provider, { code: 'invalid_input', message: 'bad URL', field: 'endpoint' }), { field: 'endpoint', message: 'bad URL' });
  assert.deepEqual(placeError(provider, { code: 'invalid_input', message: 'taken', field: 'title' }), { field: 'title', message: 'taken' });
  assert.deepEqual(placeError(provider, { code: 'unauthenticated', message: 'rejected' }), { field: null, message: 'rejected' });
  assert.deepEqual(placeError(provider, { code: 'invalid_input', message: 'x', field: 'machine' }), { field: null, message: 'x' });
});
