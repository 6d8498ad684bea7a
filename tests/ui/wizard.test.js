import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  stepsFor, stepValid, stepOfField, sizesIn, imagesFor, archesIn, archFamily, costEstimate, formatMoney,
  formatRam, formatDisk, sizeSpecs, imageLabel, reviewSummary, toCreateRequest, withToken, newState,
  dropUnfitting, firstIncomplete, nameProblem, tagsObject, sortSizes, sortLocations, fetchedLabel,
  cloudCreatable, progressIndex, HOURS_PER_MONTH,
} from '../../ui/lib/wizard.js';

// Providers as list_providers returns them (only what the wizard reads).
const caps = (over = {}) => ({ create: true, user_data: true, key_delivery: 'per_region', list_locations: true, list_sizes: true, list_images: true, ...over });
const acme = { id: 'acme', title: 'Acme Cloud', capabilities: caps() };
const local = { id: 'hyper', title: 'Hypervisor', capabilities: caps({ key_delivery: 'none', user_data: false }) };

const locations = [
  { id: 'zz-2', name: 'Zeta', country: 'NL', available: true },
  { id: 'aa-1', name: 'Alpha', country: 'US', available: true },
  { id: 'old-1', name: 'Legacy', country: null, available: false },
];
const sizes = [
  { id: 'big', name: 'Big', vcpus: 8, ram_mb: 16384, disk_gb: 160, price_hourly: 0.238, price_monthly: 160, locations: ['aa-1'] },
  { id: 'small', name: 'Small', vcpus: 1, ram_mb: 512, disk_gb: 10, price_hourly: null, price_monthly: 4, locations: [] },
  { id: 'zeta-only', name: 'Zeta only', vcpus: 2, ram_mb: 2048, disk_gb: 0, price_hourly: 0.01, price_monthly: null, locations: ['zz-2'] },
  { id: 'unpriced', name: 'Unpriced', vcpus: 2, ram_mb: 1536, disk_gb: null, price_hourly: null, price_monthly: null, locations: [] },
];
const images = [
  { id: 'u24', name: 'ubuntu-24.04-amd64', distribution: 'Ubuntu', version: '24.04', arch: 'amd64', locations: ['aa-1', 'zz-2'] },
  { id: 'u24a', name: 'ubuntu-24.04-arm', distribution: 'Ubuntu', version: '24.04', arch: 'aarch64', locations: [] },
  { id: 'deb', name: 'debian-12', distribution: 'Debian', version: '12', arch: 'x86_64', locations: ['zz-2'] },
  { id: 'any', name: 'custom', distribution: null, version: null, arch: null, locations: [] },
];
const cat = { locations, sizes, images };
const keys = [{ id: 'k1', name: 'laptop', fingerprint: 'SHA256:abc', algorithm: 'ssh-ed25519', is_default: true }];

test('the key step is skipped where the provider cannot deliver keys', () => {
  assert.deepEqual(stepsFor(acme), ['cloud', 'location', 'size', 'image', 'key', 'details', 'review']);
  assert.deepEqual(stepsFor(local), ['cloud', 'location', 'size', 'image', 'details', 'review']);
  assert.ok(!stepsFor(null).includes('key'), 'no provider yet: no key step shown');
});

test('only sizes offered in the chosen location, and images for location and architecture', () => {
  assert.deepEqual(sizesIn(sizes, 'aa-1').map((s) => s.id), ['big', 'small', 'unpriced']);
  assert.deepEqual(sizesIn(sizes, 'zz-2').map((s) => s.id), ['small', 'zeta-only', 'unpriced']);
  assert.deepEqual(imagesFor(images, 'aa-1', '').map((i) => i.id), ['u24', 'u24a', 'any']);
  assert.deepEqual(imagesFor(images, 'zz-2', 'x86_64').map((i) => i.id), ['u24', 'deb', 'any'], 'amd64 and x86_64 are one family');
  assert.deepEqual(imagesFor(images, 'aa-1', 'arm64').map((i) => i.id), ['u24a', 'any']);
  assert.deepEqual(archesIn(images, 'aa-1'), ['arm64', 'x86_64']);
  assert.equal(archFamily('AMD64'), 'x86_64');
  assert.equal(archFamily('ppc64le'), 'ppc64le');
});

test('the image search matches every word in name, distribution, version or architecture', () => {
  assert.deepEqual(imagesFor(images, 'zz-2', '', 'ubuntu 24').map((i) => i.id), ['u24', 'u24a']);
  assert.deepEqual(imagesFor(images, 'zz-2', '', 'DEBIAN').map((i) => i.id), ['deb']);
  assert.deepEqual(imagesFor(images, 'zz-2', '', 'ubuntu aarch64').map((i) => i.id), ['u24a']);
  assert.deepEqual(imagesFor(images, 'zz-2', '', 'windows'), []);
});

test('each step is valid only with a choice that fits', () => {
  const s = newState({ cloudId: 'c1' });
  const ctx = { cat, provider: acme, keys };
  assert.ok(stepValid('cloud', s, ctx).ok);
  assert.ok(!stepValid('cloud', newState(), ctx).ok);
  assert.match(stepValid('location', s, ctx).reason, /location/i);
  s.location = 'aa-1';
  assert.ok(stepValid('location', s, ctx).ok);
  s.size = 'zeta-only';
  assert.match(stepValid('size', s, ctx).reason, /not offered/);
  s.size = 'big';
  assert.ok(stepValid('size', s, ctx).ok);
  s.image = 'deb';
  assert.match(stepValid('image', s, ctx).reason, /not available/);
  s.image = 'u24';
  assert.ok(stepValid('image', s, ctx).ok);
  assert.ok(!stepValid('key', s, ctx).ok, 'a key (or no key) must be chosen');
  s.keyId = null;
  assert.ok(stepValid('key', s, ctx).ok, 'no key is a choice');
  s.keyId = 'gone';
  assert.ok(!stepValid('key', s, ctx).ok);
  s.keyId = 'k1';
  assert.ok(stepValid('key', s, ctx).ok);
  assert.ok(!stepValid('details', s, ctx).ok, 'a name is needed');
  s.name = 'web_1';
  assert.match(stepValid('details', s, ctx).reason, /letters, digits/);
  assert.equal(stepValid('details', s, ctx).field, 'name', 'shown at the name field');
  s.name = 'web-1';
  s.tags = [{ key: '', value: 'x' }];
  assert.match(stepValid('details', s, ctx).reason, /needs a key/);
  s.tags = [{ key: 'env', value: 'test' }];
  assert.ok(stepValid('details', s, ctx).ok);
  s.userData = '#cloud-config';
  assert.ok(!stepValid('details', s, { ...ctx, provider: local }).ok, 'user data where the provider takes none');
  assert.equal(firstIncomplete(stepsFor(acme), s, ctx), 'review');
  assert.equal(firstIncomplete(stepsFor(acme), { ...s, size: null }, ctx), 'size');
});

test('while a catalog is missing (provider lists none), a typed id is accepted', () => {
  const s = { ...newState({ cloudId: 'c' }), location: 'typed-1', size: 'typed', image: 'typed' };
  const ctx = { cat: { locations: null, sizes: null, images: null }, provider: acme, keys: [] };
  for (const step of ['location', 'size', 'image']) assert.ok(stepValid(step, s, ctx).ok, step);
});

test('changing the location drops the size and image that no longer fit', () => {
  const s = { ...newState({ cloudId: 'c' }), location: 'aa-1', size: 'zeta-only', image: 'deb' };
  dropUnfitting(s, cat);
  assert.equal(s.size, null);
  assert.equal(s.image, null);
  const t = { ...newState({ cloudId: 'c' }), location: 'zz-2', size: 'small', image: 'u24' };
  dropUnfitting(t, cat);
  assert.deepEqual([t.size, t.image], ['small', 'u24']);
});

test('cost estimates use what is published and derive the other half', () => {
  assert.deepEqual(costEstimate(sizes[0]), { hourly: 0.238, monthly: 160, published: { hourly: true, monthly: true } });
  const small = costEstimate(sizes[1]);
  assert.equal(small.monthly, 4);
  assert.ok(Math.abs(small.hourly - 4 / HOURS_PER_MONTH) < 1e-12);
  assert.equal(costEstimate(sizes[2]).monthly, 0.01 * HOURS_PER_MONTH);
  assert.equal(costEstimate(sizes[3]), null);
  assert.equal(formatMoney(0.238, true), '$0.238');
  assert.equal(formatMoney(0.00595, true), '$0.006');
  assert.equal(formatMoney(0.5, true), '$0.50');
  assert.equal(formatMoney(7.3), '$7.30');
  assert.equal(formatMoney(null), '—');
  assert.deepEqual(sortSizes(sizes).map((s) => s.id), ['small', 'zeta-only', 'big', 'unpriced'], 'cheapest first, unpriced last');
});

test('specs read like a person would say them', () => {
  assert.equal(formatRam(512), '512 MiB');
  assert.equal(formatRam(1536), '1.5 GiB');
  assert.equal(formatDisk(2048), '2 TB');
  assert.equal(formatDisk(0), 'none');
  assert.equal(sizeSpecs(sizes[0]), '8 vCPU · 16 GiB RAM · 160 GB disk');
  assert.equal(sizeSpecs(sizes[2]), '2 vCPU · 2 GiB RAM');
  assert.equal(imageLabel(images[0]), 'Ubuntu 24.04 · amd64');
  assert.equal(imageLabel(images[3]), 'custom');
  assert.deepEqual(sortLocations(locations).map((l) => l.id), ['aa-1', 'zz-2', 'old-1']);
});

test('the review lists every choice and the estimated cost', () => {
  const s = { ...newState({ cloudId: 'c1' }), location: 'aa-1', size: 'big', image: 'u24', keyId: 'k1', name: ' web-1 ', tags: [{ key: 'env', value: 'test' }, { key: 'role', value: '' }], userData: '#cloud-config\nruncmd: []\n\n' };
  const rows = reviewSummary(s, { cloud: { id: 'c1', title: 'work', provider: 'acme' }, provider: acme, cat, keys });
  const by = Object.fromEntries(rows.map((r) => [r.label, r.value]));
  assert.equal(by.Cloud, 'work (Acme Cloud)');
  assert.equal(by.Location, 'Alpha (US) · aa-1');
  assert.equal(by.Size, 'Big · 8 vCPU · 16 GiB RAM · 160 GB disk');
  assert.equal(by.Image, 'ubuntu-24.04-amd64 (Ubuntu 24.04 · amd64) · u24');
  assert.equal(by['SSH key'], 'laptop · SHA256:abc');
  assert.equal(by.Name, 'web-1');
  assert.equal(by.Tags, 'env=test, role');
  assert.equal(by['User data'], '2 lines of cloud-init');
  assert.equal(by['Estimated cost'], '$0.238 per hour · $160.00 per month');
  const bare = reviewSummary({ ...s, size: 'unpriced', keyId: null }, { cloud: null, provider: local, cat, keys });
  const bareBy = Object.fromEntries(bare.map((r) => [r.label, r.value]));
  assert.equal(bareBy['Estimated cost'], 'Not published by the provider');
  assert.ok(!('SSH key' in bareBy) && !('User data' in bareBy), 'rows the provider has no step for are left out');
});

test('the create request carries the choices; one token per request, kept on retry', () => {
  const s = { ...newState({ cloudId: 'c1' }), location: 'aa-1', size: 'big', image: 'u24', keyId: 'k1', name: 'web-1', tags: [{ key: ' env ', value: 'test ' }], userData: '  ' };
  let n = 0;
  const make = () => `tok-${++n}`;
  const first = withToken(s, acme, make);
  assert.deepEqual(first, { location: 'aa-1', size: 'big', image: 'u24', key_id: 'k1', name: 'web-1', tags: { env: 'test' }, user_data: null, options: {}, client_token: 'tok-1' });
  assert.equal(withToken(s, acme, make).client_token, 'tok-1', 'the same request retried keeps its token');
  s.size = 'small';
  assert.equal(withToken(s, acme, make).client_token, 'tok-2', 'a changed request is a new create');
  assert.equal(toCreateRequest({ ...s, userData: '#x' }, local).key_id, null, 'no key where keys cannot be delivered');
  assert.equal(toCreateRequest({ ...s, userData: '#x' }, local).user_data, null);
  assert.equal(toCreateRequest({ ...s, userData: '#x' }, acme).user_data, '#x');
  assert.deepEqual(tagsObject([{ key: '', value: '' }, { key: 'a', value: '1' }, { key: 'a', value: '2' }]), { a: '2' });
});

test('errors land on the step of their field', () => {
  assert.deepEqual(['cloud', 'location', 'size', 'image', 'key', 'name', 'tags', 'user_data', 'options', 'client_token', undefined].map(stepOfField),
    ['cloud', 'location', 'size', 'image', 'key', 'details', 'details', 'details', 'review', 'review', 'review']);
  assert.equal(nameProblem('a'.repeat(64)), 'Names are at most 63 characters.');
  assert.equal(nameProblem('db.example.com'), null);
});

test('clouds that cannot take a new machine say why', () => {
  assert.ok(cloudCreatable({ enabled: true }, acme).ok);
  assert.match(cloudCreatable({ enabled: false }, acme).reason, /disabled/);
  assert.match(cloudCreatable({ enabled: true }, { title: 'Ro', capabilities: caps({ create: false }) }).reason, /cannot create machines on Ro/);
  assert.match(cloudCreatable({ enabled: true }, undefined).reason, /not known/);
});

test('catalog age and progress', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  assert.equal(fetchedLabel({ fetched_at: '2024-05-01T11:55:00Z', stale: false }, now), 'Fetched 5 min ago');
  assert.equal(fetchedLabel({ fetched_at: '2024-05-01T11:59:50Z', stale: false }, now), 'Fetched just now');
  assert.match(fetchedLabel({ fetched_at: '2024-04-29T12:00:00Z', stale: true }, now), /^Fetched 2 d ago \(offline copy/);
  assert.equal(fetchedLabel(null, now), '');
  assert.deepEqual(['requested', 'pending', 'starting', 'running'].map(progressIndex), [0, 1, 1, 2]);
});
