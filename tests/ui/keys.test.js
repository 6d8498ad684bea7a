import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pastedKeyKind, cipherOf, keyType, sortKeys, preselectedKey, freeKeyName } from '../../ui/lib/keys.js';

let hasKeygen = true;
try { execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' }); } catch (e) { hasKeygen = e.code !== 'ENOENT'; }

/** A fresh key pair from ssh-keygen (the reference OpenSSH implementation). */
function keygen(passphrase) {
  const dir = mkdtempSync(join(tmpdir(), 'skydeck-keys-'));
  try {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'me@host', '-f', join(dir, 'k')]);
    return { priv: readFileSync(join(dir, 'k'), 'utf8'), pub: readFileSync(join(dir, 'k.pub'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('ssh-keygen output is told apart: public, private, passphrase-protected', { skip: !hasKeygen && 'ssh-keygen is not installed' }, () => {
  const plain = keygen('');
  const locked = keygen('correct horse');
  assert.equal(pastedKeyKind(plain.pub), 'public');
  assert.equal(pastedKeyKind(`  ${plain.pub}\n`), 'public');
  assert.equal(pastedKeyKind(plain.priv), 'private');
  assert.equal(cipherOf(plain.priv), 'none');
  assert.equal(pastedKeyKind(locked.priv), 'encrypted');
  assert.equal(cipherOf(locked.priv), 'aes256-ctr');
});

test('other pastes are named so the form can say what to do', () => {
  assert.equal(pastedKeyKind(''), 'empty');
  assert.equal(pastedKeyKind('-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----'), 'pem');
  assert.equal(pastedKeyKind('hello'), 'unknown');
  assert.equal(pastedKeyKind('ssh-ed25519 not-base64'), 'unknown');
  assert.equal(pastedKeyKind('ecdsa-sha2-nistp256 AAAAE2VjZHNh x'), 'public');
  assert.equal(cipherOf('-----BEGIN OPENSSH PRIVATE KEY-----\n!!!\n-----END OPENSSH PRIVATE KEY-----'), null);
});

test('key types, order, preselection and free names', () => {
  assert.deepEqual(['ssh-ed25519', 'ssh-rsa', 'ecdsa-sha2-nistp384', 'sk-ssh-ed25519@openssh.com', ''].map(keyType), ['ED25519', 'RSA', 'ECDSA P-384', 'Security key', '?']);
  const keys = [{ id: '1', name: 'b', is_default: false }, { id: '2', name: 'a', is_default: false }, { id: '3', name: 'z', is_default: true }];
  assert.deepEqual(sortKeys(keys).map((k) => k.name), ['z', 'a', 'b']);
  assert.equal(preselectedKey(keys).id, '3');
  assert.equal(preselectedKey([keys[0]]).id, '1', 'the only key');
  assert.equal(preselectedKey(keys.slice(0, 2)), null, 'several keys and no default: the user picks');
  assert.equal(freeKeyName([], 'skydeck'), 'skydeck');
  assert.equal(freeKeyName([{ name: 'skydeck' }, { name: 'skydeck-2' }], 'skydeck'), 'skydeck-3');
});
