// Safe markup for the dashboard. Every value from the API is untrusted (branch names, commit
// messages, errors are written by whoever can push), so all markup goes through the `html` tag,
// which escapes every interpolated value unless it is itself a piece of `html`.

export class Html {
  constructor(text) { this.text = text; }
  toString() { return this.text; }
}

export function escapeHtml(value) {
  return String(value).replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function piece(value) {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(piece).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(value);
}

/** Tagged template: literal parts are trusted markup, every `${value}` is escaped. */
export function html(strings, ...values) {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += piece(values[i]) + strings[i + 1];
  return new Html(out);
}

export function setHtml(element, markup) {
  element.innerHTML = piece(markup);
}

/** While the user selects text in `element` (a digest to copy), a refresh must not replace it. */
export function selecting(element) {
  const selection = window.getSelection();
  return Boolean(selection && !selection.isCollapsed && element.contains(selection.anchorNode));
}
