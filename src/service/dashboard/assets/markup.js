// @ts-check
// Safe markup for the dashboard. Every value from the API is untrusted (branch names, commit
// messages, errors are written by whoever can push), so all markup goes through the `html` tag,
// which escapes every interpolated value unless it is itself a piece of `html`.

/** Markup that is already safe: literal template parts with escaped values in between. */
class Html {
  /** @param {string} text */
  constructor(text) {
    this.text = text;
  }
  toString() {
    return this.text;
  }
}

/** @param {unknown} value */
function escapeHtml(value) {
  return String(value).replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Markup text of `value`: an `Html` as is, an array joined, null/undefined/false as nothing,
 * anything else escaped.
 * @param {unknown} value
 * @returns {string}
 */
export function piece(value) {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(piece).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(value);
}

/**
 * Tagged template: literal parts are trusted markup, every `${value}` is escaped.
 * @param {TemplateStringsArray} strings
 * @param {...unknown} values
 * @returns {Html}
 */
export function html(strings, ...values) {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += piece(values[i]) + strings[i + 1];
  return new Html(out);
}

/**
 * @param {Element} element
 * @param {unknown} markup
 */
export function setHtml(element, markup) {
  element.innerHTML = piece(markup);
}

/**
 * While the user selects text in `element` (a digest to copy), a refresh must not replace it.
 * @param {Element} element
 */
export function selecting(element) {
  const selection = window.getSelection();
  return Boolean(selection && !selection.isCollapsed && element.contains(selection.anchorNode));
}

/**
 * The element the page's own markup put at `selector`, of the kind expected: its absence is a
 * bug in the dashboard, not something a user can fix.
 * @template {Element} T
 * @param {ParentNode} root
 * @param {string} selector
 * @param {{ new(): T }} kind
 * @returns {T}
 */
export function element(root, selector, kind) {
  const found = root.querySelector(selector);
  if (!(found instanceof kind)) throw new Error(`dashboard markup: no ${kind.name} at ${selector}`);
  return found;
}
