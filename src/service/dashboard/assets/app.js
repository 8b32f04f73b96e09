// autobuild dashboard: a small single-page app over the service's JSON API. No framework and no
// build step. Every value from the API is untrusted (branch names, commit messages, errors are
// written by whoever can push), so all markup goes through the `html` tag below, which escapes
// every interpolated value unless it is itself a piece of `html`.

const PAGE_SIZE = 50;
const BUILDS_POLL_MS = 2000;
const QUEUE_POLL_MS = 3000;
// A finished build changes rarely (a late digest check, a retry's link); look now and then.
const FINISHED_POLL_MS = 15000;
const IMAGES_POLL_MS = 15000;
const STATUSES = ['queued', 'running', 'succeeded', 'failed', 'canceled', 'superseded'];
const FINAL = new Set(['succeeded', 'failed', 'canceled', 'superseded']);
// A glyph next to each status word, so the state reads without colour and at a glance.
const STATUS_GLYPH = { queued: '…', running: '▶', succeeded: '✓', failed: '✗', canceled: '■', superseded: '↷' };

// ---- safe markup ---------------------------------------------------------------------------

class Html {
  constructor(text) { this.text = text; }
  toString() { return this.text; }
}

function escapeHtml(value) {
  return String(value).replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function piece(value) {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(piece).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(value);
}

/** Tagged template: literal parts are trusted markup, every `${value}` is escaped. */
function html(strings, ...values) {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += piece(values[i]) + strings[i + 1];
  return new Html(out);
}

function setHtml(element, markup) {
  element.innerHTML = piece(markup);
}

// ---- talking to the API ---------------------------------------------------------------------

class ApiError extends Error {
  constructor(message, status) { super(message); this.status = status; }
}

async function api(path, { method = 'GET', signal } = {}) {
  // The session cookie goes along by itself (same origin); fetch adds `Origin` to POSTs, which the
  // server checks, so another site cannot make this browser retry or cancel a build.
  const response = await fetch(path, { method, signal, headers: { accept: 'application/json' }, credentials: 'same-origin' });
  if (response.status === 401) {
    signedOut();
    throw new ApiError('signed out', 401);
  }
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  if (!response.ok) {
    const why = (body && (body.message || body.error)) || text.trim() || response.statusText;
    throw new ApiError(`${method} ${path}: ${response.status} ${why}`, response.status);
  }
  return body;
}

let signingOut = false;
function signedOut() {
  // The token changed or the cookie went away: the server shows the sign-in form at `/`.
  if (signingOut) return;
  signingOut = true;
  window.location.assign('/');
}

function isAbort(err) {
  return err && err.name === 'AbortError';
}

// ---- formatting -------------------------------------------------------------------------------

function asArray(value) {
  return Array.isArray(value) ? value : [];
}

function shortSha(sha) {
  return typeof sha === 'string' ? sha.slice(0, 7) : '';
}

function shortDigest(digest) {
  return typeof digest === 'string' ? digest.replace(/^sha256:/, '').slice(0, 12) : '';
}

/** `refs/heads/main` -> branch main; `refs/tags/v1` -> tag v1; `refs/pull/7/merge` -> PR #7. */
function describeRef(ref) {
  if (typeof ref !== 'string') return { kind: '', name: '' };
  let m = /^refs\/heads\/(.+)$/.exec(ref);
  if (m) return { kind: 'branch', name: m[1] };
  m = /^refs\/tags\/(.+)$/.exec(ref);
  if (m) return { kind: 'tag', name: m[1] };
  m = /^refs\/pull\/(\d+)\//.exec(ref);
  if (m) return { kind: 'PR', name: `#${m[1]}` };
  return { kind: '', name: ref };
}

function refLabel(ref) {
  const { kind, name } = describeRef(ref);
  return html`${kind ? html`<span class="ref-kind">${kind}</span> ` : ''}<span class="ref-name">${name}</span>`;
}

/** The tag of a full reference: what follows the last `:` after the last `/`. */
function tagOfRef(ref) {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? ref.slice(colon + 1) : '';
}

function imageOfRef(ref) {
  const tag = tagOfRef(ref);
  return tag ? ref.slice(0, ref.length - tag.length - 1) : ref;
}

function toTime(value) {
  if (value === null || value === undefined || value === '') return NaN;
  return typeof value === 'number' ? value : Date.parse(value);
}

function formatDuration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

function buildDuration(build) {
  const started = toTime(build.startedAt);
  if (!Number.isFinite(started)) return '';
  const finished = toTime(build.finishedAt);
  return formatDuration((Number.isFinite(finished) ? finished : Date.now()) - started);
}

function timeAgo(value) {
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

function badge(status, label = status) {
  const known = STATUSES.includes(status) ? status : 'unknown';
  return html`<span class="badge badge-${known}"><span aria-hidden="true">${STATUS_GLYPH[known] ?? '?'}</span> ${label ?? 'unknown'}</span>`;
}

function buildLink(build, content) {
  return html`<a href="#/builds/${encodeURIComponent(build.id)}">${content}</a>`;
}

// ---- routing ---------------------------------------------------------------------------------

const main = document.getElementById('main');
let currentView = null;

function parseHash() {
  const raw = window.location.hash.replace(/^#/, '') || '/builds';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const parts = path.split('/').filter(Boolean).map((p) => { try { return decodeURIComponent(p); } catch { return p; } });
  if (parts[0] === 'builds' && parts[1]) return { name: 'build', id: parts[1] };
  if (parts[0] === 'images') return { name: 'images' };
  return { name: 'builds', repository: params.get('repository') ?? '', status: params.get('status') ?? '' };
}

let currentPlace = '';

function route(focus) {
  if (currentView) currentView.stop();
  const where = parseHash();
  const place = where.name === 'build' ? `build:${where.id}` : where.name;
  for (const link of document.querySelectorAll('[data-nav]')) {
    const here = link.dataset.nav === (where.name === 'build' ? 'builds' : where.name);
    if (here) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
  }
  if (where.name === 'build') currentView = buildView(where.id);
  else if (where.name === 'images') currentView = imagesView();
  else currentView = buildsView(where);
  // On a new page (not a new filter), move focus there so screen readers start reading it.
  if (focus && place !== currentPlace) main.focus({ preventScroll: false });
  currentPlace = place;
}

/** While the user selects text in `element` (a digest to copy), a refresh must not replace it. */
function selecting(element) {
  const selection = window.getSelection();
  return Boolean(selection && !selection.isCollapsed && element.contains(selection.anchorNode));
}

/**
 * Calls `tick` now and then every `ms` (a number, or a function giving the next pause) while
 * the tab is visible; `stop()` ends it.
 */
function poller(tick, ms) {
  let timer = null;
  let stopped = false;
  const run = async () => {
    timer = null;
    if (stopped) return;
    if (!document.hidden) {
      try { await tick(); } catch (err) { if (!isAbort(err)) console.error(err); }
    }
    if (!stopped) timer = setTimeout(run, typeof ms === 'function' ? ms() : ms);
  };
  run();
  return { stop() { stopped = true; if (timer) clearTimeout(timer); } };
}

function showProblem(element, err) {
  if (!element) return;
  if (!err) { element.hidden = true; element.textContent = ''; return; }
  element.hidden = false;
  element.textContent = err.status ? err.message : `Cannot reach the server (${err.message}); trying again…`;
}

// ---- builds list -----------------------------------------------------------------------------

function buildRow(build) {
  const tags = asArray(build.tags);
  const shown = tags.slice(0, 4);
  return html`<tr data-id="${build.id}" class="status-${build.status}">
<td>${badge(build.status)}</td>
<td class="repo">${build.repository}</td>
<td class="ref">${buildLink(build, refLabel(build.ref))}</td>
<td><code title="${build.sha ?? ''}">${shortSha(build.sha)}</code></td>
<td class="tags">${shown.map((t) => html`<code class="tag">${t}</code> `)}${tags.length > shown.length ? html`<span class="muted">+${tags.length - shown.length}</span>` : ''}</td>
<td>${timeAgo(build.createdAt)}</td>
<td class="num">${buildDuration(build) || html`<span class="muted">—</span><span class="visually-hidden">not started</span>`}</td>
</tr>`;
}

function buildsView(filters) {
  const controller = new AbortController();
  document.title = 'Builds · autobuild';
  setHtml(main, html`
<h1>Builds</h1>
<form class="filters" role="search" aria-label="Filter builds">
<label>Repository <input name="repository" list="known-repositories" value="${filters.repository}" placeholder="owner/name" autocomplete="off" spellcheck="false"></label>
<datalist id="known-repositories"></datalist>
<label>Status <select name="status">
<option value="">any</option>
${STATUSES.map((s) => html`<option value="${s}"${s === filters.status ? html` selected` : ''}>${s}</option>`)}
</select></label>
<button type="submit">Filter</button>
${filters.repository || filters.status ? html`<a href="#/builds">Clear filters</a>` : ''}
</form>
<p class="notice notice-error" role="alert" hidden></p>
<div class="table-scroll">
<table class="builds">
<caption class="visually-hidden">Builds, newest first${filters.repository ? `, repository ${filters.repository}` : ''}${filters.status ? `, status ${filters.status}` : ''}</caption>
<thead><tr><th scope="col">Status</th><th scope="col">Repository</th><th scope="col">Ref</th><th scope="col">Commit</th><th scope="col">Tags</th><th scope="col">Created</th><th scope="col">Duration</th></tr></thead>
<tbody></tbody>
</table>
</div>
<p class="empty muted" hidden></p>
<p class="more-row"><button type="button" class="more" hidden>Load more</button></p>`);

  const form = main.querySelector('form.filters');
  const problem = main.querySelector('[role=alert]');
  const tbody = main.querySelector('tbody');
  const empty = main.querySelector('p.empty');
  const more = main.querySelector('button.more');
  const datalist = main.querySelector('#known-repositories');

  let builds = [];
  let hasMore = false;
  let rendered = { ids: '', rows: new Map() };

  const apply = () => {
    const p = new URLSearchParams();
    const repository = form.elements.repository.value.trim();
    if (repository) p.set('repository', repository);
    if (form.elements.status.value) p.set('status', form.elements.status.value);
    const hash = `#/builds${p.size ? `?${p}` : ''}`;
    if (window.location.hash !== hash) window.location.hash = hash;
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); apply(); });
  form.elements.status.addEventListener('change', apply);
  form.elements.repository.addEventListener('change', apply);

  const query = (extra) => {
    const p = new URLSearchParams({ limit: String(PAGE_SIZE), ...extra });
    if (filters.repository) p.set('repository', filters.repository);
    if (filters.status) p.set('status', filters.status);
    return `/api/builds?${p}`;
  };

  const render = () => {
    if (selecting(tbody)) return;
    // Rows are keyed by build id: when the list is the same builds in the same order, only rows
    // whose text changed are replaced, so a 2-second poll does not disturb a selection or focus.
    const ids = builds.map((b) => String(b.id)).join('\n');
    const rows = new Map(builds.map((b) => [String(b.id), piece(buildRow(b))]));
    if (ids === rendered.ids) {
      for (const row of tbody.rows) {
        const next = rows.get(row.dataset.id);
        if (next !== rendered.rows.get(row.dataset.id)) row.outerHTML = next;
      }
    } else {
      tbody.innerHTML = [...rows.values()].join('');
    }
    rendered = { ids, rows };
    empty.hidden = builds.length > 0;
    empty.textContent = filters.repository || filters.status
      ? 'No builds match these filters.'
      : 'No builds yet. Push to a configured repository (or send its webhook) and the build shows up here.';
    more.hidden = !hasMore;
    const repos = [...new Set(builds.map((b) => b.repository).filter(Boolean))].sort();
    if (datalist.childElementCount !== repos.length) setHtml(datalist, repos.map((r) => html`<option value="${r}">`));
  };

  const refresh = async () => {
    const page = asArray((await api(query({}), { signal: controller.signal }))?.builds);
    showProblem(problem, null);
    if (page.length < PAGE_SIZE) {
      builds = page;
      hasMore = false;
    } else {
      // Keep what "load more" fetched beyond the first page; only the first page is polled.
      const seen = new Set(page.map((b) => b.id));
      const oldest = toTime(page[page.length - 1].createdAt);
      builds = page.concat(builds.filter((b) => !seen.has(b.id) && toTime(b.createdAt) <= oldest));
      if (builds.length === page.length) hasMore = true;
    }
    render();
  };

  more.addEventListener('click', async () => {
    const last = builds[builds.length - 1];
    if (!last) return;
    more.disabled = true;
    try {
      const page = asArray((await api(query({ before: last.id }), { signal: controller.signal }))?.builds);
      const seen = new Set(builds.map((b) => b.id));
      builds = builds.concat(page.filter((b) => !seen.has(b.id)));
      hasMore = page.length >= PAGE_SIZE;
      render();
    } catch (err) {
      if (!isAbort(err)) showProblem(problem, err);
    } finally {
      more.disabled = false;
    }
  });

  const poll = poller(async () => {
    try { await refresh(); } catch (err) { if (!isAbort(err)) showProblem(problem, err); throw err; }
  }, BUILDS_POLL_MS);
  return { stop() { poll.stop(); controller.abort(); } };
}

// ---- one build -------------------------------------------------------------------------------

/** Why `latest` moved or did not, in words, from the build's refs, `pushed` and `held`. */
function latestStory(build) {
  const refs = asArray(build.refs);
  const pushed = asArray(build.pushed);
  const held = asArray(build.held);
  const latestRefs = refs.filter((r) => tagOfRef(r) === 'latest');
  if (latestRefs.length === 0) {
    const images = asArray(build.images);
    const wanted = asArray(build.tags).includes('latest');
    if (!wanted) {
      return [html`This build does not tag <code>latest</code>: the rules for ${refLabel(build.ref)} do not ask for it (or a higher version already has it), so ${images.length > 1 ? 'each image’s' : 'the image’s'} <code>latest</code> stays where it was.`];
    }
  }
  const lines = [];
  const targets = latestRefs.length > 0 ? latestRefs : asArray(build.images).map((i) => `${i}:latest`);
  for (const ref of targets) {
    const hold = held.find((h) => h && h.ref === ref);
    const push = pushed.find((p) => p && p.ref === ref);
    const image = html`<code>${imageOfRef(ref)}</code>`;
    if (push) {
      lines.push(html`${image}: <code>latest</code> moved to this build (<code title="${push.digest ?? ''}">${shortDigest(push.digest)}</code>).`);
    } else if (hold) {
      lines.push(html`${image}: <code>latest</code> did not move — ${hold.reason || 'held back'}.`);
    } else if (build.status === 'queued' || build.status === 'running') {
      lines.push(html`${image}: <code>latest</code> is pushed last, once every other tag is in the registry — not yet.`);
    } else if (build.status === 'succeeded') {
      lines.push(html`${image}: <code>latest</code> was not pushed by this build.`);
    } else {
      lines.push(html`${image}: <code>latest</code> did not move — the build ${build.status ?? 'stopped'} before it was pushed (<code>latest</code> only moves after every other tag succeeded).`);
    }
  }
  return lines;
}

/**
 * One step. The service records `{step, status: running|done, startedAt, ms}`; `{name, status,
 * startedAt, finishedAt}` is read too. A step still "running" in a finished build is where it
 * stopped, so it shows the build's end state.
 */
function stepItem(step, build) {
  const name = step.name ?? step.step ?? '';
  let status = step.status;
  let label = status;
  if (status === 'done') { status = 'succeeded'; label = 'done'; }
  if (status === 'running' && FINAL.has(build.status)) {
    status = build.status === 'succeeded' ? 'succeeded' : build.status;
    label = build.status === 'succeeded' ? 'done' : build.status;
  }
  const started = toTime(step.startedAt);
  let ms = typeof step.ms === 'number' ? step.ms : toTime(step.finishedAt) - started;
  if (!Number.isFinite(ms) && step.status === 'running' && !FINAL.has(build.status)) ms = Date.now() - started;
  return html`<li>${badge(status, label)} <span class="step-name">${name}</span> <span class="muted num">${formatDuration(ms)}</span></li>`;
}

/** Where a build came from: a GitHub delivery, a remote trigger, or a retry of another build. */
function originText(origin) {
  if (typeof origin !== 'string' || !origin) return '';
  const retry = /^retry:(.+)$/.exec(origin);
  if (retry) return html`retry of ${buildLink({ id: retry[1] }, html`<code>${retry[1]}</code>`)}`;
  if (origin === 'trigger') return 'remote trigger';
  return html`GitHub delivery <code>${origin}</code>`;
}

function buildDetails(build) {
  const pushed = asArray(build.pushed);
  const held = asArray(build.held);
  const steps = asArray(build.steps);
  const images = asArray(build.images);
  const tags = asArray(build.tags);
  const canCancel = build.status === 'queued' || build.status === 'running';
  return html`
<div class="build-head">
<h1>${refLabel(build.ref)} <span class="muted">in</span> ${build.repository}</h1>
<p class="status-line">${badge(build.status)}</p>
</div>
<div class="actions">
<button type="button" data-action="retry"${canCancel ? html` disabled` : ''}>Retry</button>
<button type="button" data-action="cancel" class="danger"${canCancel ? '' : html` disabled`}>Cancel</button>
</div>
${build.error ? html`<p class="notice${build.status === 'failed' ? ' notice-error' : ''}"><strong>${build.status === 'failed' ? 'Error' : 'Why it stopped'}:</strong> ${build.error}</p>` : ''}
<dl class="facts">
<div><dt>Build</dt><dd><code>${build.id}</code></dd></div>
<div><dt>Commit</dt><dd><code>${build.sha ?? ''}</code></dd></div>
${build.build && build.build.commitMessage ? html`<div class="wide"><dt>Message</dt><dd class="message">${String(build.build.commitMessage).split('\n')[0]}</dd></div>` : ''}
${originText(build.origin) ? html`<div><dt>Started by</dt><dd>${originText(build.origin)}</dd></div>` : ''}
<div><dt>Images</dt><dd>${images.map((i) => html`<code>${i}</code> `)}</dd></div>
<div><dt>Tags</dt><dd>${tags.length ? tags.map((t) => html`<code class="tag">${t}</code> `) : html`<span class="muted">none</span>`}</dd></div>
<div><dt>Created</dt><dd>${timeAgo(build.createdAt)}</dd></div>
<div><dt>Started</dt><dd>${timeAgo(build.startedAt)}</dd></div>
<div><dt>Finished</dt><dd>${timeAgo(build.finishedAt)}</dd></div>
<div><dt>Duration</dt><dd>${buildDuration(build) || html`<span class="muted">—</span>`}</dd></div>
<div class="wide"><dt>Digest</dt><dd>${build.digest ? html`<code class="digest">${build.digest}</code>` : html`<span class="muted">—</span>`}</dd></div>
</dl>
<section aria-labelledby="h-latest">
<h2 id="h-latest">Latest</h2>
<ul class="story">${latestStory(build).map((line) => html`<li>${line}</li>`)}</ul>
</section>
<section aria-labelledby="h-pushed">
<h2 id="h-pushed">Pushed</h2>
${pushed.length ? html`<table class="pushed">
<thead><tr><th scope="col">Reference</th><th scope="col">Digest</th></tr></thead>
<tbody>${pushed.map((p) => html`<tr><td><code>${p.ref}</code></td><td><code class="digest" title="${p.digest ?? ''}">${p.digest}</code></td></tr>`)}</tbody>
</table>` : html`<p class="muted">Nothing pushed${FINAL.has(build.status) ? '' : ' yet'}.</p>`}
${held.length ? html`<h3>Held back</h3><ul class="held">${held.map((h) => html`<li><code>${h.ref}</code> — ${h.reason}</li>`)}</ul>` : ''}
</section>
<section aria-labelledby="h-steps">
<h2 id="h-steps">Steps</h2>
${steps.length ? html`<ol class="steps">${steps.map((s) => stepItem(s, build))}</ol>` : html`<p class="muted">No steps yet.</p>`}
</section>`;
}

// ANSI colour and cursor sequences from docker/buildah output: shown as plain text they are noise.
const ANSI = /\x1b\[[0-9;?]*[ -\/]*[@-~]/g;

function logFollower(pre, followBox, signal) {
  let pending = '';
  let carry = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (!pending) return;
    const stick = followBox.checked;
    pre.append(document.createTextNode(pending));
    pending = '';
    if (stick) pre.scrollTop = pre.scrollHeight;
  };
  return {
    reset() { pre.textContent = ''; pending = ''; carry = ''; },
    /** Text only (never markup): a log line is whatever the build printed. */
    add(chunk) {
      let text = carry + chunk;
      // An escape sequence cut between two chunks waits for the rest.
      const esc = text.lastIndexOf('\x1b');
      if (esc >= 0 && !/[@-~]/.test(text.slice(esc + 2)) && text.length - esc < 32) {
        carry = text.slice(esc);
        text = text.slice(0, esc);
      } else {
        carry = '';
      }
      pending += text.replace(ANSI, '');
      if (!scheduled && !signal.aborted) { scheduled = true; requestAnimationFrame(flush); }
    },
  };
}

async function readLog(id, follow, log, signal) {
  const response = await fetch(`/api/builds/${encodeURIComponent(id)}/log${follow ? '?follow=1' : ''}`,
    { signal, credentials: 'same-origin', headers: { accept: 'text/plain' } });
  if (response.status === 401) { signedOut(); return; }
  if (response.status === 404) return;
  if (!response.ok || !response.body) throw new ApiError(`log: ${response.status}`, response.status);
  log.reset();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    log.add(value);
  }
}

function buildView(id) {
  const controller = new AbortController();
  const { signal } = controller;
  document.title = `Build ${id} · autobuild`;
  setHtml(main, html`
<nav class="crumbs" aria-label="Breadcrumb"><a href="#/builds">Builds</a> <span aria-hidden="true">›</span> <span aria-current="page">${id}</span></nav>
<p class="notice notice-error" role="alert" hidden></p>
<p class="visually-hidden" role="status" aria-live="polite"></p>
<div class="build-details"><p class="muted">Loading…</p></div>
<section aria-labelledby="h-log" class="log">
<div class="log-head"><h2 id="h-log">Log</h2><label><input type="checkbox" class="follow" checked> Follow the end</label></div>
<pre class="log-text" tabindex="0" aria-label="Build log"></pre>
</section>`);
  const problem = main.querySelector('[role=alert]');
  const details = main.querySelector('.build-details');
  const announcer = main.querySelector('[role=status]');
  let announced = '';
  const pre = main.querySelector('pre.log-text');
  const log = logFollower(pre, main.querySelector('input.follow'), signal);
  let build = null;
  let renderedText = '';
  let streaming = false;

  const render = () => {
    const text = piece(buildDetails(build));
    if (text === renderedText || selecting(details)) return;
    if (build.status !== announced) {
      // One live region that stays in place, told only when the status changes.
      if (announced) announcer.textContent = `Build ${build.status}.`;
      announced = build.status;
    }
    // Keep keyboard focus on the action buttons across re-renders.
    const focused = document.activeElement?.dataset?.action;
    details.innerHTML = text;
    renderedText = text;
    if (focused) details.querySelector(`[data-action="${focused}"]`)?.focus();
  };

  const follow = async () => {
    // Streams the log while the build runs; if the connection drops, read it again from the start.
    if (streaming) return;
    streaming = true;
    try {
      while (!signal.aborted) {
        const live = !FINAL.has(build?.status);
        await readLog(id, live, log, signal);
        if (!live) break;
        await refresh();
        if (FINAL.has(build?.status)) { await readLog(id, false, log, signal); break; }
        await new Promise((r) => setTimeout(r, 1000));
      }
    } catch (err) {
      if (!isAbort(err)) showProblem(problem, err);
    } finally {
      streaming = false;
    }
  };

  const refresh = async () => {
    build = await api(`/api/builds/${encodeURIComponent(id)}`, { signal });
    showProblem(problem, null);
    render();
  };

  details.addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-action]');
    if (!button) return;
    const action = button.dataset.action;
    button.disabled = true;
    try {
      const answer = await api(`/api/builds/${encodeURIComponent(id)}/${action}`, { method: 'POST', signal });
      // The service answers a retry with `{builds: [id]}`; `{id}` is read too.
      const next = action === 'retry' && answer ? (answer.id ?? asArray(answer.builds)[0]) : undefined;
      if (next !== undefined) {
        window.location.hash = `#/builds/${encodeURIComponent(next)}`;
        return;
      }
      renderedText = ''; // the answer may not change the text; redraw the buttons anyway
      await refresh();
    } catch (err) {
      if (!isAbort(err)) showProblem(problem, err);
      button.disabled = false;
    }
  });

  let first = true;
  const poll = poller(async () => {
    try {
      await refresh();
      if (first) { first = false; follow(); }
      if (build) document.title = `${build.status} · ${describeRef(build.ref).name} · autobuild`;
    } catch (err) {
      if (!isAbort(err)) showProblem(problem, err.status === 404 ? new ApiError(`No build ${id}.`, 404) : err);
      throw err;
    }
  }, () => (FINAL.has(build?.status) ? FINISHED_POLL_MS : BUILDS_POLL_MS));
  return { stop() { poll.stop(); controller.abort(); } };
}

// ---- images ----------------------------------------------------------------------------------

/** Numeric parts of a version-like tag (`v1.2.3` -> [1,2,3]), or null. */
function versionParts(tag) {
  const m = /^v?(\d+(?:\.\d+)*)$/.exec(tag);
  return m ? m[1].split('.').map(Number) : null;
}

function compareVersions(a, b) {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/** Within one digest: the most specific version first, then other names, `latest` last. */
function compareTagsInGroup(a, b) {
  if (a === 'latest' || b === 'latest') return (a === 'latest') - (b === 'latest');
  const va = versionParts(a);
  const vb = versionParts(b);
  if (va && vb) return vb.length - va.length || compareVersions(vb, va);
  if (va || vb) return va ? -1 : 1;
  return a.localeCompare(b);
}

/** Tags sharing a manifest digest are one image: `1.2.3`, `1.2`, `1`, `latest` make one row. */
function groupByDigest(tags) {
  const groups = new Map();
  for (const t of asArray(tags)) {
    if (!t || typeof t.tag !== 'string') continue;
    const key = t.digest || `?${t.tag}`;
    if (!groups.has(key)) groups.set(key, { digest: t.digest || '', tags: [] });
    groups.get(key).tags.push(t.tag);
  }
  const list = [...groups.values()];
  for (const g of list) g.tags.sort(compareTagsInGroup);
  const rank = (g) => {
    const v = g.tags.map(versionParts).filter(Boolean).sort(compareVersions).pop();
    return { latest: g.tags.includes('latest'), v };
  };
  // The group holding `latest` first, then the highest version, then the rest by name.
  return list.sort((x, y) => {
    const rx = rank(x);
    const ry = rank(y);
    if (rx.latest !== ry.latest) return rx.latest ? -1 : 1;
    if (rx.v && ry.v) return compareVersions(ry.v, rx.v);
    if (rx.v || ry.v) return rx.v ? -1 : 1;
    return x.tags[0].localeCompare(y.tags[0]);
  });
}

function imageSection(image, index) {
  const groups = groupByDigest(image.tags);
  const headingId = `image-${index}`;
  return html`<section class="image" aria-labelledby="${headingId}">
<h2 id="${headingId}"><code>${image.image}</code></h2>
${image.repository ? html`<p class="muted">from ${image.repository}</p>` : ''}
${image.error ? html`<p class="notice notice-error">Registry: ${image.error}</p>` : ''}
${groups.length ? html`<table class="digests">
<thead><tr><th scope="col">Tags</th><th scope="col">Digest</th></tr></thead>
<tbody>${groups.map((g) => html`<tr><td>${g.tags.map((t) => html`<code class="tag">${t}</code> `)}</td><td>${g.digest ? html`<code class="digest" title="${g.digest}">${g.digest}</code>` : html`<span class="muted">unknown</span>`}</td></tr>`)}</tbody>
</table>` : image.error ? '' : html`<p class="muted">No tags in the registry yet.</p>`}
</section>`;
}

function imagesView() {
  const controller = new AbortController();
  document.title = 'Images · autobuild';
  setHtml(main, html`
<div class="page-head"><h1>Images</h1><button type="button" class="refresh">Refresh</button></div>
<p class="muted">Every configured image with its tags in the registry; tags on the same digest are one row.</p>
<p class="notice notice-error" role="alert" hidden></p>
<div class="images" aria-busy="true"><p class="muted">Asking the registries…</p></div>`);
  const problem = main.querySelector('[role=alert]');
  const list = main.querySelector('.images');
  let renderedText = '';
  const refresh = async () => {
    try {
      const images = asArray((await api('/api/images', { signal: controller.signal }))?.images);
      showProblem(problem, null);
      const text = images.length ? piece(images.map(imageSection)) : piece(html`<p class="muted">No images configured.</p>`);
      if (text !== renderedText && !selecting(list)) { list.innerHTML = text; renderedText = text; }
      list.removeAttribute('aria-busy');
    } catch (err) {
      if (!isAbort(err)) showProblem(problem, err);
      throw err;
    }
  };
  main.querySelector('button.refresh').addEventListener('click', () => { refresh().catch(() => {}); });
  const poll = poller(refresh, IMAGES_POLL_MS);
  return { stop() { poll.stop(); controller.abort(); } };
}

// ---- queue health (in the header on every page) --------------------------------------------

function startQueue() {
  const box = document.getElementById('queue');
  const fields = ['waiting', 'active', 'failed', 'delayed'];
  let last = '';
  poller(async () => {
    let markup;
    try {
      const q = await api('/api/queue');
      markup = piece(fields.filter((f) => q && q[f] !== undefined).map((f) => html`<div class="q-${f}${f === 'failed' && q[f] > 0 ? ' warn' : ''}"><dt>${f}</dt><dd>${q[f]}</dd></div>`));
    } catch (err) {
      markup = piece(html`<div class="warn"><dt>Queue</dt><dd>${err.status ? 'unavailable' : 'unreachable'}</dd></div>`);
    }
    if (markup !== last) { box.innerHTML = markup; last = markup; }
  }, QUEUE_POLL_MS);
}

window.addEventListener('hashchange', () => route(true));
route(false);
startQueue();
