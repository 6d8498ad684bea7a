// The create-machine wizard as pure data and functions: which steps a provider gets, when a
// step is complete, which catalog entries fit together, what it will cost, what the review
// shows and what `create_machine` receives. Everything provider-specific comes from the
// provider's declared capabilities (list_providers); no provider is named here.

export const ALL_STEPS = ['cloud', 'location', 'size', 'image', 'key', 'details', 'review'];

export const STEP_TITLES = {
  cloud: 'Cloud',
  location: 'Location',
  size: 'Size',
  image: 'Image',
  key: 'SSH key',
  details: 'Name & tags',
  review: 'Review',
};

/** Hours in an average month, as providers bill "per month" from an hourly price. */
export const HOURS_PER_MONTH = 730;

/** A fresh wizard state; `cloudId` preselects a cloud (from the sidebar's cloud menu). */
export function newState({ cloudId = null, token = null } = {}) {
  return {
    cloudId,
    location: null,
    size: null,
    image: null,
    arch: '',
    imageQuery: '',
    // undefined = not chosen yet (the default key gets preselected); null = no key.
    keyId: undefined,
    name: '',
    tags: [],
    userData: '',
    token,
    tokenSig: null,
  };
}

/** Can a machine be created on this cloud at all? {ok, reason}. */
export function cloudCreatable(cloud, provider) {
  if (!provider) return { ok: false, reason: 'Its provider is not known to this version of Skydeck.' };
  if (!provider.capabilities?.create) return { ok: false, reason: `Skydeck cannot create machines on ${provider.title} yet.` };
  if (cloud.enabled === false) return { ok: false, reason: 'This cloud is disabled; enable it from its menu first.' };
  return { ok: true, reason: '' };
}

/** The steps this provider's wizard walks: the SSH-key step only where keys can be delivered. */
export function stepsFor(provider) {
  const delivery = provider?.capabilities?.key_delivery ?? 'none';
  return ALL_STEPS.filter((s) => s !== 'key' || delivery !== 'none');
}

/** The wizard step an error with `field` belongs to (`null` = show it on the review step). */
export function stepOfField(field) {
  switch (field) {
    case 'cloud': return 'cloud';
    case 'location': return 'location';
    case 'size': return 'size';
    case 'image': return 'image';
    case 'key': case 'passphrase': return 'key';
    case 'name': case 'tags': case 'user_data': return 'details';
    default: return 'review';
  }
}

/** The three architecture spellings families, as the core matches them. */
export function archFamily(a) {
  const s = String(a ?? '').toLowerCase();
  if (['x86_64', 'amd64', 'x64'].includes(s)) return 'x86_64';
  if (['arm64', 'aarch64'].includes(s)) return 'arm64';
  if (['i386', 'x86', 'i686'].includes(s)) return 'i386';
  return s;
}

/** A size fits a location when it lists it, or lists none (offered everywhere). */
export function sizeFits(size, location) {
  const locs = size.locations ?? [];
  return !location || locs.length === 0 || locs.includes(location);
}

/** An image fits a location (listed or listed nowhere) and an architecture (or has none). */
export function imageFits(image, location, arch) {
  const locs = image.locations ?? [];
  const locOk = !location || locs.length === 0 || locs.includes(location);
  const archOk = !arch || !image.arch || archFamily(arch) === archFamily(image.arch);
  return locOk && archOk;
}

export function sizesIn(sizes, location) {
  return (sizes ?? []).filter((s) => sizeFits(s, location));
}

/** Architectures of the images offered in `location`, in a stable order. */
export function archesIn(images, location) {
  const set = new Set((images ?? []).filter((i) => imageFits(i, location, '')).map((i) => i.arch && archFamily(i.arch)).filter(Boolean));
  return [...set].sort();
}

/** Images for the location and architecture that match every word of `query` (name,
 * distribution, version, architecture or id). */
export function imagesFor(images, location, arch, query = '') {
  const words = String(query).toLowerCase().split(/\s+/).filter(Boolean);
  return (images ?? []).filter((i) => {
    if (!imageFits(i, location, arch)) return false;
    if (!words.length) return true;
    const hay = [i.name, i.distribution, i.version, i.arch, i.id].filter(Boolean).join(' ').toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

/** Locations that take new machines first, then by name. */
export function sortLocations(locations) {
  return [...(locations ?? [])].sort((a, b) => Number(b.available) - Number(a.available) || String(a.name).localeCompare(String(b.name)));
}

/** Sizes by price when known, then vCPUs, RAM, name. */
export function sortSizes(sizes) {
  const price = (s) => hourly(s) ?? Infinity;
  return [...(sizes ?? [])].sort((a, b) => price(a) - price(b) || (a.vcpus ?? 0) - (b.vcpus ?? 0) || (a.ram_mb ?? 0) - (b.ram_mb ?? 0) || String(a.name).localeCompare(String(b.name)));
}

function hourly(size) {
  if (typeof size?.price_hourly === 'number') return size.price_hourly;
  if (typeof size?.price_monthly === 'number') return size.price_monthly / HOURS_PER_MONTH;
  return null;
}

/** The estimated cost of a size: {hourly, monthly, published} or null when no price is published.
 * A missing half is derived from the other at HOURS_PER_MONTH. */
export function costEstimate(size) {
  if (!size) return null;
  const h = typeof size.price_hourly === 'number' ? size.price_hourly : null;
  const m = typeof size.price_monthly === 'number' ? size.price_monthly : null;
  if (h === null && m === null) return null;
  return {
    hourly: h ?? m / HOURS_PER_MONTH,
    monthly: m ?? h * HOURS_PER_MONTH,
    published: { hourly: h !== null, monthly: m !== null },
  };
}

/** "$0.0059" per hour (up to 4 decimals, at least 2), "$4.30" per month. */
export function formatMoney(v, perHour = false) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
  if (!perHour) return `$${v.toFixed(2)}`;
  const s = v.toFixed(4).replace(/0{1,2}$/, '');
  return `$${s}`;
}

/** "1 GiB", "512 MiB", "1.5 GiB". */
export function formatRam(mb) {
  if (typeof mb !== 'number') return '—';
  if (mb < 1024) return `${mb} MiB`;
  const g = mb / 1024;
  return `${Number.isInteger(g) ? g : g.toFixed(1)} GiB`;
}

export function formatDisk(gb) {
  if (typeof gb !== 'number') return '—';
  if (gb === 0) return 'none';
  return gb >= 1024 && gb % 1024 === 0 ? `${gb / 1024} TB` : `${gb} GB`;
}

/** One line for a size: "2 vCPU · 4 GiB RAM · 80 GB disk". */
export function sizeSpecs(size) {
  const parts = [];
  if (typeof size.vcpus === 'number') parts.push(`${size.vcpus} vCPU`);
  if (typeof size.ram_mb === 'number') parts.push(`${formatRam(size.ram_mb)} RAM`);
  if (typeof size.disk_gb === 'number' && size.disk_gb > 0) parts.push(`${formatDisk(size.disk_gb)} disk`);
  return parts.join(' · ');
}

/** "Ubuntu 22.04 · x86_64" (falls back to the image's name). */
export function imageLabel(image) {
  const dist = [image.distribution, image.version].filter(Boolean).join(' ');
  return [dist || image.name, image.arch].filter(Boolean).join(' · ');
}

export function locationLabel(loc) {
  return loc.country ? `${loc.name} (${loc.country})` : loc.name;
}

/** Tags as the core wants them: trimmed keys, later duplicates win, empty rows dropped. */
export function tagsObject(rows) {
  const out = {};
  for (const { key, value } of rows ?? []) {
    const k = String(key ?? '').trim();
    if (!k && !String(value ?? '').trim()) continue;
    out[k] = String(value ?? '').trim();
  }
  return out;
}

/** Same rules as the core's machine names (they become host names). */
export function nameProblem(name) {
  const n = String(name ?? '').trim();
  if (!n) return 'Give the machine a name.';
  if (n.length > 63) return 'Names are at most 63 characters.';
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(n)) {
    return "Use letters, digits, '-' and '.', starting and ending with a letter or digit (it becomes the host name).";
  }
  return null;
}

export function tagsProblem(rows) {
  for (const { key, value } of rows ?? []) {
    if (!String(key ?? '').trim() && String(value ?? '').trim()) return 'A tag needs a key.';
  }
  return null;
}

/**
 * Is `step` complete? {ok, reason, field}. `cat` holds the loaded catalogs ({locations, sizes,
 * images} lists, or null while loading / when the provider lists none: then an id typed by
 * hand is accepted).
 */
export function stepValid(step, state, ctx = {}) {
  const { cat = {}, provider = null, keys = [] } = ctx;
  const has = (list, id) => list == null || list.some((x) => x.id === id);
  switch (step) {
    case 'cloud':
      return state.cloudId ? ok() : no('Choose the cloud to create the machine on.');
    case 'location':
      if (!state.location) return no('Choose a location.');
      return has(cat.locations, state.location) ? ok() : no('That location is no longer offered; choose another.');
    case 'size':
      if (!state.size) return no('Choose a size.');
      if (cat.sizes && !sizesIn(cat.sizes, state.location).some((s) => s.id === state.size)) return no('That size is not offered in the chosen location.');
      return ok();
    case 'image':
      if (!state.image) return no('Choose an image.');
      if (cat.images && !imagesFor(cat.images, state.location, '').some((i) => i.id === state.image)) return no('That image is not available in the chosen location.');
      return ok();
    case 'key':
      if (state.keyId === undefined) return no('Choose a key, or no key.');
      if (state.keyId !== null && !keys.some((k) => k.id === state.keyId)) return no('That key no longer exists; choose another.');
      return ok();
    case 'details': {
      const name = nameProblem(state.name);
      if (name) return no(name, 'name');
      const tags = tagsProblem(state.tags);
      if (tags) return no(tags, 'tags');
      if (state.userData.trim() && provider && !provider.capabilities?.user_data) return no('This provider cannot pass cloud-init user data; clear it.', 'user_data');
      return ok();
    }
    case 'review':
      return ok();
    default:
      return no('Unknown step.');
  }
}
const ok = () => ({ ok: true, reason: '' });
/** `field`: where the form shows the reason (the step itself when absent). */
const no = (reason, field = null) => ({ ok: false, reason, field });

/** The first step that is not complete (the review when all are), given the provider's steps. */
export function firstIncomplete(steps, state, ctx) {
  return steps.find((s) => !stepValid(s, state, ctx).ok) ?? 'review';
}

/** Clears the choices that no longer fit after an earlier one changed. */
export function dropUnfitting(state, cat = {}) {
  if (cat.sizes && state.size && !sizesIn(cat.sizes, state.location).some((s) => s.id === state.size)) state.size = null;
  if (cat.images && state.image && !imagesFor(cat.images, state.location, '').some((i) => i.id === state.image)) state.image = null;
  return state;
}

/** What `create_machine` / `check_create` receive. */
export function toCreateRequest(state, provider) {
  const userData = provider?.capabilities?.user_data ? state.userData : '';
  return {
    location: state.location ?? '',
    size: state.size ?? '',
    image: state.image ?? '',
    key_id: stepsFor(provider).includes('key') ? (state.keyId ?? null) : null,
    name: String(state.name ?? '').trim(),
    tags: tagsObject(state.tags),
    user_data: userData.trim() ? userData : null,
    options: {},
    client_token: state.token,
  };
}

/**
 * Keeps one idempotency token per request: a retry of the same choices sends the same token
 * (so a provider with tokens never makes a second machine), changed choices get a new one.
 * `makeToken` is injected (crypto.randomUUID in the window).
 */
export function withToken(state, provider, makeToken) {
  const { client_token: _ignored, ...rest } = toCreateRequest(state, provider);
  const sig = JSON.stringify([state.cloudId, rest]);
  if (!state.token || state.tokenSig !== sig) {
    state.token = makeToken();
    state.tokenSig = sig;
  }
  return toCreateRequest(state, provider);
}

/** The review: label/value rows of everything chosen, in the order of the steps. */
export function reviewSummary(state, { cloud, provider, cat = {}, keys = [] } = {}) {
  const find = (list, id) => (list ?? []).find((x) => x.id === id);
  const loc = find(cat.locations, state.location);
  const size = find(cat.sizes, state.size);
  const image = find(cat.images, state.image);
  const rows = [
    { step: 'cloud', label: 'Cloud', value: cloud ? `${cloud.title} (${provider?.title ?? cloud.provider})` : '—' },
    { step: 'location', label: 'Location', value: loc ? `${locationLabel(loc)} · ${loc.id}` : state.location ?? '—' },
    { step: 'size', label: 'Size', value: size ? [size.name, sizeSpecs(size)].filter(Boolean).join(' · ') : state.size ?? '—' },
    { step: 'image', label: 'Image', value: image ? `${image.name} (${imageLabel(image)}) · ${image.id}` : state.image ?? '—' },
  ];
  if (stepsFor(provider).includes('key')) {
    const key = keys.find((k) => k.id === state.keyId);
    rows.push({ step: 'key', label: 'SSH key', value: key ? `${key.name} · ${key.fingerprint}` : 'No key' });
  }
  rows.push({ step: 'details', label: 'Name', value: String(state.name ?? '').trim() || '—' });
  const tags = Object.entries(tagsObject(state.tags)).map(([k, v]) => (v ? `${k}=${v}` : k));
  rows.push({ step: 'details', label: 'Tags', value: tags.length ? tags.join(', ') : 'None' });
  if (provider?.capabilities?.user_data) {
    const lines = state.userData.trim() ? state.userData.replace(/\n+$/, '').split('\n').length : 0;
    rows.push({ step: 'details', label: 'User data', value: lines ? `${lines} line${lines === 1 ? '' : 's'} of cloud-init` : 'None' });
  }
  const cost = costEstimate(size);
  rows.push({
    step: 'size', label: 'Estimated cost',
    value: cost ? `${formatMoney(cost.hourly, true)} per hour · ${formatMoney(cost.monthly)} per month` : 'Not published by the provider',
  });
  return rows;
}

/** The progress line after Create: requested → pending → running, with where we are. */
export const PROGRESS = ['requested', 'pending', 'running'];

export function progressIndex(state) {
  if (state === 'running') return 2;
  if (state === 'requested' || state == null) return 0;
  return 1;
}

/** "fetched just now" / "fetched 5 min ago" (+ "(offline copy)" when stale). */
export function fetchedLabel(catalog, now = Date.now()) {
  if (!catalog?.fetched_at) return '';
  const t = Date.parse(catalog.fetched_at);
  if (!Number.isFinite(t)) return '';
  const s = Math.max(0, Math.round((now - t) / 1000));
  const age = s < 60 ? 'just now' : s < 3600 ? `${Math.floor(s / 60)} min ago` : s < 86400 ? `${Math.floor(s / 3600)} h ago` : `${Math.floor(s / 86400)} d ago`;
  return `Fetched ${age}${catalog.stale ? ' (offline copy; refresh when online)' : ''}`;
}
