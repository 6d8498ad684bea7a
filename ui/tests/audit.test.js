// Checks over the sources themselves: no markup sinks anywhere in the UI, only api.js talks
// to Rust, and the command list agrees across src-tauri/permissions, the invoke handler, the capability
// and api.js (a command missing from one of them is denied at run time).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ui = join(dirname(fileURLToPath(import.meta.url)), '..');
const repo = join(ui, '..');

function sources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (name === 'tests' || name === 'providers' || name === 'node_modules') return [];
    return statSync(p).isDirectory() ? sources(p) : /\.(js|html)$/.test(name) ? [p] : [];
  });
}
const files = sources(ui).map((p) => ({ path: relative(ui, p), text: readFileSync(p, 'utf8') }));

test('the UI has sources to check', () => {
  assert.ok(files.length >= 10, files.map((f) => f.path).join(', '));
});

test('no markup sinks or eval in the UI', () => {
  const sinks = /\.innerHTML\b|\.outerHTML\b|insertAdjacentHTML|document\.write|\beval\s*\(|new Function\s*\(|setTimeout\s*\(\s*['"`]|\bon[a-z]+\s*=\s*["']/;
  for (const f of files) assert.doesNotMatch(f.text, sinks, f.path);
});

test('no inline scripts, inline styles or remote URLs in index.html', () => {
  const html = readFileSync(join(ui, 'index.html'), 'utf8');
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'inline <script>');
  assert.doesNotMatch(html, /<style|\sstyle=/, 'inline style');
  assert.doesNotMatch(html, /(src|href)=["']?(https?:)?\/\//, 'remote resource');
});

test('only api.js calls invoke or touches window.__TAURI__', () => {
  for (const f of files) {
    if (f.path === 'api.js') continue;
    assert.doesNotMatch(f.text, /__TAURI__|\binvoke\s*\(/, f.path);
  }
});

test('no provider-specific code in the UI', () => {
  const ids = readdirSync(join(repo, 'src-tauri/core/src/providers'))
    .map((n) => n.replace(/\.rs$/, ''))
    .filter((n) => n !== 'mod');
  assert.ok(ids.length > 0);
  for (const f of files) for (const id of ids) assert.doesNotMatch(f.text, new RegExp(`['"\`/]${id}['"\`./]`, 'i'), `${f.path} names ${id}`);
});

test('the permissions, the invoke handler, the capability and api.js list the same commands', () => {
  const perms = readFileSync(join(repo, 'src-tauri/permissions/commands.toml'), 'utf8');
  const fromBuild = [...perms.matchAll(/^commands\.allow = \["([a-z_]+)"\]/gm)].map((m) => m[1]).sort();
  const ids = [...perms.matchAll(/^identifier = "allow-([a-z-]+)"/gm)].map((m) => m[1].replace(/-/g, '_')).sort();
  assert.deepEqual(ids, fromBuild, 'permission identifiers vs their commands');
  assert.ok(fromBuild.length >= 10);
  const handler = readFileSync(join(repo, 'src-tauri/src/commands/mod.rs'), 'utf8');
  const fromHandler = [...handler.match(/generate_handler!\[([^\]]+)\]/s)[1].matchAll(/::([a-z_]+)/g)].map((m) => m[1]).sort();
  const cap = JSON.parse(readFileSync(join(repo, 'src-tauri/capabilities/main.json'), 'utf8'));
  const fromCap = cap.permissions.filter((p) => typeof p === 'string' && p.startsWith('allow-')).map((p) => p.slice(6).replace(/-/g, '_')).sort();
  const api = readFileSync(join(ui, 'api.js'), 'utf8');
  const fromApi = [...api.matchAll(/invoke\('([a-z_]+)'/g)].map((m) => m[1]).sort();
  assert.deepEqual(fromHandler, fromBuild, 'handler vs permissions');
  assert.deepEqual(fromCap, fromBuild, 'capability vs permissions');
  assert.deepEqual(fromApi, fromBuild, 'api.js vs permissions');
  // Plugin permissions are the few the UI uses, never a whole default set.
  const plugins = cap.permissions.filter((p) => typeof p === 'string' && p.includes(':'));
  assert.ok(plugins.every((p) => /:allow-/.test(p)), plugins.join(', '));
  assert.ok(!plugins.some((p) => /clipboard-manager:allow-read/.test(p)), 'the UI never reads the clipboard');
});

test('the CSP allows nothing remote, inline or eval', () => {
  const conf = JSON.parse(readFileSync(join(repo, 'tauri.conf.json'), 'utf8'));
  const csp = conf.app.security.csp;
  const all = Object.values(csp).join(' ');
  assert.doesNotMatch(all, /unsafe-inline|unsafe-eval|https?:\/\/(?!ipc\.localhost)|\*/);
  assert.equal(csp['script-src'], "'self'");
  assert.equal(csp['object-src'], "'none'");
  assert.equal(conf.build.frontendDist, 'ui');
});
