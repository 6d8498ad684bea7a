import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeDocument, textNodes } from './dom-stub.js';

globalThis.document = makeDocument();
const { h, replace, initials, logo } = await import('../../ui/lib/dom.js');

const PAYLOAD = '<img src=x onerror=alert(1)>';

test('strings from a cloud become text nodes, exactly as given', () => {
  const el = h('div', { class: 'cell' }, PAYLOAD, h('span', { text: PAYLOAD }));
  const texts = textNodes(el);
  assert.equal(texts.length, 2);
  assert.deepEqual(texts.map((t) => t.data), [PAYLOAD, PAYLOAD]);
  assert.equal(el.textContent, PAYLOAD + PAYLOAD);
  assert.equal(el.childNodes[0].nodeType, 3, 'the payload is a Text node, not an element');
});

test('h() refuses markup and inline handlers', () => {
  assert.throws(() => h('div', { innerHTML: PAYLOAD }), /not allowed/);
  assert.throws(() => h('img', { onerror: 'alert(1)' }), /not allowed/);
  assert.throws(() => h('div', { style: 'color:red' }), /not allowed/);
});

test('attributes are set as strings, listeners as functions', () => {
  let clicked = 0;
  const el = h('button', { title: PAYLOAD, 'aria-label': 'x', dataset: { key: 'a/b' }, on: { click: () => clicked++ } });
  assert.equal(el.getAttribute('title'), PAYLOAD);
  assert.equal(el.dataset.key, 'a/b');
  el.listeners.click[0]();
  assert.equal(clicked, 1);
});

test('replace() swaps children and flattens arrays, skipping null/false', () => {
  const el = h('ul', {}, 'old');
  replace(el, [h('li', {}, 'a'), null, false, [h('li', {}, 'b')]], 3);
  assert.deepEqual(el.childNodes.map((c) => c.textContent), ['a', 'b', '3']);
});

test('logos only load plain file names; anything else falls back to initials', () => {
  const ok = logo({ title: 'Some Cloud', logo: 'some-cloud.svg' });
  assert.equal(ok.tagName, 'IMG');
  assert.equal(ok.getAttribute('src'), 'providers/some-cloud.svg');
  for (const bad of ['../../etc/passwd', 'x.svg" onerror="alert(1)', 'https://evil.example/x.svg', '']) {
    const el = logo({ title: 'Some Cloud', logo: bad });
    assert.equal(el.tagName, 'SPAN', bad);
    assert.equal(el.textContent, 'SC');
  }
  assert.equal(initials('ec2'), 'EC');
  assert.equal(initials('Digital Ocean'), 'DO');
});
