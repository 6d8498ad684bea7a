// A tiny DOM for node tests: just enough of Document/Element/Text for lib/dom.js. It has no
// HTML parser at all, so anything that renders as markup instead of text shows up as a
// missing text node.

class Node {
  constructor(doc) { this.ownerDocument = doc; this.childNodes = []; this.parentNode = null; }
  appendChild(c) { c.parentNode?.removeChild(c); this.childNodes.push(c); c.parentNode = this; return c; }
  removeChild(c) { this.childNodes = this.childNodes.filter((x) => x !== c); c.parentNode = null; return c; }
  get firstChild() { return this.childNodes[0] ?? null; }
  get textContent() { return this.childNodes.map((c) => c.textContent).join(''); }
  set textContent(t) { this.childNodes = []; if (t !== '') this.appendChild(new Text(this.ownerDocument, String(t))); }
}

export class Text extends Node {
  constructor(doc, data) { super(doc); this.data = data; this.nodeType = 3; }
  get textContent() { return this.data; }
}

export class Element extends Node {
  constructor(doc, tag) {
    super(doc);
    this.tagName = tag.toUpperCase();
    this.nodeType = 1;
    this.attributes = new Map();
    this.dataset = {};
    this.listeners = {};
    this.className = '';
  }
  setAttribute(k, v) { this.attributes.set(k, String(v)); }
  getAttribute(k) { return this.attributes.get(k) ?? null; }
  addEventListener(ev, fn) { (this.listeners[ev] ??= []).push(fn); }
  set innerHTML(_) { throw new Error('innerHTML used'); }
}

export function makeDocument() {
  const doc = {
    createElement: (tag) => new Element(doc, tag),
    createTextNode: (t) => new Text(doc, t),
  };
  return doc;
}

/** Every text node under `node`, in order. */
export function textNodes(node) {
  return node.nodeType === 3 ? [node] : node.childNodes.flatMap(textNodes);
}
