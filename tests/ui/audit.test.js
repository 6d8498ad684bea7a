// Checks over the sources themselves: no markup sinks anywhere in the UI, only api.js talks
// to Rust, the command list agrees across src-tauri/permissions, the invoke handler, the capability
// and api.js (a command missing from one of them is denied at run time), the webview holds no
// plugin permission that takes a path or URL, and nothing but the app is shipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

// These tests live in tests/ui/, outside the shipped folder (tauri.conf.json's frontendDist).
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ui = join(repo, 'ui');

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
});

// Plugin permissions the webview may hold: none of them takes a path or a URL (tauri-plugin-store
// resolves the path it is given with PathBuf::push, so `store:allow-load` would read or write any
// JSON file the user can; fs, http, shell, opener, dialog likewise reach outside the app). UI
// preferences go through Skydeck's own get_ui_prefs/set_ui_pref instead. Adding a plugin
// permission means adding it here, after checking it takes no path, URL or program.
const PLUGIN_ALLOWLIST = [
  'core:event:allow-listen',
  'core:event:allow-unlisten',
  'clipboard-manager:allow-write-text',
];

test('the webview gets no plugin permission beyond the explicit allowlist (none takes a path or URL)', () => {
  const cap = JSON.parse(readFileSync(join(repo, 'src-tauri/capabilities/main.json'), 'utf8'));
  // Scoped permissions are objects ({identifier, allow: [{path…}]}): none at all.
  const objects = cap.permissions.filter((p) => typeof p !== 'string');
  assert.deepEqual(objects, [], 'scoped (object) permissions');
  const plugins = cap.permissions.filter((p) => p.includes(':'));
  const extra = plugins.filter((p) => !PLUGIN_ALLOWLIST.includes(p));
  assert.deepEqual(extra, [], `plugin permissions outside the allowlist: ${extra.join(', ')}`);
  // The app's own commands are `allow-<command>` from src-tauri/permissions, nothing else.
  const own = cap.permissions.filter((p) => !p.includes(':'));
  assert.ok(own.every((p) => /^allow-[a-z-]+$/.test(p)), own.join(', '));
  assert.ok(!plugins.some((p) => /^store:|^fs:|^http:|^shell:|^opener:|^dialog:/.test(p)));
  assert.ok(!plugins.some((p) => /clipboard-manager:allow-read/.test(p)), 'the UI never reads the clipboard');
  assert.deepEqual(plugins.filter((p) => p.startsWith('clipboard-manager:')), ['clipboard-manager:allow-write-text'], 'clipboard: write text only');
  // And the UI does not call a plugin the capability does not grant.
  const api = readFileSync(join(ui, 'api.js'), 'utf8');
  const pluginCalls = [...api.matchAll(/invoke\('plugin:([a-z-]+)\|([a-z_]+)'/g)].map((m) => `${m[1]}:allow-${m[2].replace(/_/g, '-')}`);
  assert.ok(pluginCalls.every((p) => PLUGIN_ALLOWLIST.includes(p)), pluginCalls.join(', '));
  assert.doesNotMatch(api, /tauri\.store|plugin:store/, 'UI preferences go through get_ui_prefs/set_ui_pref');
});

test('the shipped folder (frontendDist) holds the app only: no tests, no node_modules', () => {
  const conf = JSON.parse(readFileSync(join(repo, 'tauri.conf.json'), 'utf8'));
  const dist = join(repo, conf.build.frontendDist);
  const all = (dir) => readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? [`${relative(dist, p)}/`, ...all(p)] : [relative(dist, p)];
  });
  const shipped = all(dist);
  assert.ok(shipped.includes('index.html') && shipped.includes('api.js'), shipped.join(', '));
  const unwanted = shipped.filter((p) => /(^|\/)(tests?|node_modules)\/$|\.test\.js$|(^|\/)dom-stub\.js$/.test(p));
  assert.deepEqual(unwanted, [], 'test files inside the shipped folder');
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
