// SSH keys in the keys view and the import form, as pure functions: what was pasted (public
// key, private key, passphrase-protected private key) and how a key is described.

const BEGIN = '-----BEGIN OPENSSH PRIVATE KEY-----';
const END = '-----END OPENSSH PRIVATE KEY-----';
const MAGIC = 'openssh-key-v1\0';

/**
 * What the user pasted: 'empty', 'public' (one OpenSSH public key line), 'private',
 * 'encrypted' (a passphrase-protected OpenSSH private key: the import needs its passphrase),
 * 'pem' (an old PEM private key) or 'unknown'. The core decides for real; this only lets the
 * form ask for a passphrase when one is needed.
 */
export function pastedKeyKind(text) {
  const t = String(text ?? '').trim();
  if (!t) return 'empty';
  if (t.startsWith(BEGIN)) return cipherOf(t) === 'none' ? 'private' : cipherOf(t) ? 'encrypted' : 'private';
  if (/^-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(t)) return 'pem';
  if (/^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp\d+|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) AAAA[0-9A-Za-z+/=]+( .*)?$/.test(t)) return 'public';
  return 'unknown';
}

/** The cipher name inside an OpenSSH private key ('none' when unencrypted), or null. */
export function cipherOf(text) {
  const body = String(text).replace(BEGIN, '').replace(END, '').replace(/\s+/g, '');
  let bin;
  try {
    bin = atob(body.slice(0, 64));
  } catch {
    return null;
  }
  if (!bin.startsWith(MAGIC)) return null;
  const at = MAGIC.length;
  const len = (bin.charCodeAt(at) << 24) | (bin.charCodeAt(at + 1) << 16) | (bin.charCodeAt(at + 2) << 8) | bin.charCodeAt(at + 3);
  if (len <= 0 || len > 32 || at + 4 + len > bin.length) return null;
  return bin.slice(at + 4, at + 4 + len);
}

/** 'ssh-ed25519' → 'ED25519', 'ecdsa-sha2-nistp256' → 'ECDSA P-256', 'ssh-rsa' → 'RSA'. */
export function keyType(algorithm) {
  const a = String(algorithm ?? '');
  if (a === 'ssh-ed25519') return 'ED25519';
  if (a === 'ssh-rsa') return 'RSA';
  const ec = /^ecdsa-sha2-nistp(\d+)$/.exec(a);
  if (ec) return `ECDSA P-${ec[1]}`;
  if (a.startsWith('sk-')) return 'Security key';
  return a || '?';
}

/** Keys for a list: the default first, then by name. */
export function sortKeys(keys) {
  return [...(keys ?? [])].sort((a, b) => Number(b.is_default) - Number(a.is_default) || String(a.name).localeCompare(String(b.name)));
}

/** The key the wizard preselects: the default, else the only key, else none. */
export function preselectedKey(keys) {
  const list = keys ?? [];
  return list.find((k) => k.is_default) ?? (list.length === 1 ? list[0] : null);
}

/** A name for a new key that is not taken yet: base, base-2, base-3, … */
export function freeKeyName(keys, base = 'skydeck') {
  const taken = new Set((keys ?? []).map((k) => k.name));
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`;
}
