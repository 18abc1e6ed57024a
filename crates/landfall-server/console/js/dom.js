// Building DOM without HTML strings: every text goes through textContent / text nodes, so data
// from devices (custom ids, versions, metadata) and from the server is never parsed as markup.
// This module is the only place elements are made; no HTML string is ever parsed.

/**
 * Create an element.
 * props: `class`, `text` (textContent), `dataset` (object), `on<event>` (listener),
 * `attrs` names are set with setAttribute (never `style`: use classes; never `on…` strings).
 * Children: nodes, strings (as text), arrays, null/false (skipped).
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'href') el.setAttribute('href', safeHref(value));
    else if (key === 'value') el.value = value;
    else if (key === 'checked' || key === 'disabled' || key === 'selected') el[key] = Boolean(value);
    else if (key === 'style' || key.startsWith('on')) {
      throw new Error(`h(): ${key} is not allowed`);
    } else el.setAttribute(key, value === true ? '' : String(value));
  }
  add(el, children);
  return el;
}

/** Append children (nodes, strings, arrays; null/false skipped). */
export function add(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replace an element's children. */
export function mount(el, ...children) {
  el.replaceChildren();
  return add(el, children);
}

/** Only same-document hashes, relative paths and http(s) URLs become links. */
export function safeHref(url) {
  const s = String(url);
  if (s.startsWith('#') || s.startsWith('/')) return s;
  try {
    const u = new URL(s);
    if (u.protocol === 'https:' || u.protocol === 'http:') return u.href;
  } catch {
    // fall through
  }
  return '#';
}
