// @ts-check
// How API values read on the page: statuses, refs, commits, digests, times and durations.
import { html } from './markup.js';

/** @typedef {import('./api-types.js').BuildStatus} BuildStatus */

/** @type {BuildStatus[]} */
export const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'canceled', 'superseded'];
/** @type {Set<BuildStatus | undefined>} */
export const FINAL = new Set(['succeeded', 'failed', 'canceled', 'superseded']);
// A glyph next to each status word, so the state reads without colour and at a glance.
/** @type {Record<BuildStatus, string>} */
const STATUS_GLYPH = { queued: '…', running: '▶', succeeded: '✓', failed: '✗', canceled: '■', superseded: '↷' };

/** @param {string} sha */
export function shortSha(sha) {
  return sha.slice(0, 7);
}

/** @param {string} digest */
export function shortDigest(digest) {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/**
 * `refs/heads/main` -> branch main; `refs/tags/v1` -> tag v1; `refs/pull/7/merge` -> PR #7.
 * @param {string} ref
 * @returns {{ kind: string, name: string }}
 */
export function describeRef(ref) {
  let m = /^refs\/heads\/(.+)$/.exec(ref);
  if (m) return { kind: 'branch', name: m[1] };
  m = /^refs\/tags\/(.+)$/.exec(ref);
  if (m) return { kind: 'tag', name: m[1] };
  m = /^refs\/pull\/(\d+)\//.exec(ref);
  if (m) return { kind: 'PR', name: `#${m[1]}` };
  return { kind: '', name: ref };
}

/** @param {string} ref */
export function refLabel(ref) {
  const { kind, name } = describeRef(ref);
  return html`${kind ? html`<span class="ref-kind">${kind}</span> ` : ''}<span class="ref-name">${name}</span>`;
}

/**
 * The tag of a full reference: what follows the last `:` after the last `/`.
 * @param {string} ref
 */
export function tagOfRef(ref) {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? ref.slice(colon + 1) : '';
}

/** @param {string} ref */
export function imageOfRef(ref) {
  const tag = tagOfRef(ref);
  return tag ? ref.slice(0, ref.length - tag.length - 1) : ref;
}

/**
 * Milliseconds of an API time (ISO text); NaN when there is none yet.
 * @param {string | null} value
 */
export function toTime(value) {
  return value ? Date.parse(value) : NaN;
}

/** @param {number} ms */
export function formatDuration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** @param {{ startedAt: string | null, finishedAt: string | null }} build */
export function buildDuration(build) {
  const started = toTime(build.startedAt);
  if (!Number.isFinite(started)) return '';
  const finished = toTime(build.finishedAt);
  return formatDuration((Number.isFinite(finished) ? finished : Date.now()) - started);
}

/** @param {string | null} value */
export function timeAgo(value) {
  const t = toTime(value);
  if (!Number.isFinite(t)) return html`<span class="muted">—</span>`;
  const iso = new Date(t).toISOString();
  const s = Math.round((Date.now() - t) / 1000);
  let text;
  if (s < 45) text = 'just now';
  else if (s < 3600) text = `${Math.round(s / 60)} min ago`;
  else if (s < 86400) text = `${Math.round(s / 3600)} h ago`;
  else text = `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
  return html`<time datetime="${iso}" title="${iso.replace('T', ' ').slice(0, 19)} UTC">${text}</time>`;
}

/**
 * @param {BuildStatus} status
 * @param {string} [label] the word shown, when not the status itself
 */
export function badge(status, label = status) {
  return html`<span class="badge badge-${status}"><span aria-hidden="true">${STATUS_GLYPH[status]}</span> ${label}</span>`;
}

/**
 * @param {{ id: string }} build
 * @param {unknown} content
 */
export function buildLink(build, content) {
  return html`<a href="#/builds/${encodeURIComponent(build.id)}">${content}</a>`;
}
