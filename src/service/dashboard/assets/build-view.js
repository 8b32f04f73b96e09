// @ts-check
// One build: what it pushed and held, why `latest` moved or not, its steps, its log followed live,
// and the Retry / Cancel buttons.
import { api, ApiError, isAbort, poller, POLL_MS, showProblem, signedOut } from './api.js';
import { badge, buildDuration, buildLink, describeRef, FINAL, formatDuration, imageOfRef, refLabel, shortDigest, tagOfRef, timeAgo, toTime } from './format.js';
import { element, html, piece, selecting, setHtml } from './markup.js';

/** @typedef {import('./api-types.js').BuildRecord} BuildRecord */

// A finished build changes rarely (a late digest check, a retry's link); look now and then.
const FINISHED_POLL_MS = 15000;

/**
 * Why `latest` moved or not, one line per image.
 * @param {BuildRecord} build
 */
function latestStory(build) {
  const { pushed, held } = build;
  const latestRefs = build.refs.filter((r) => tagOfRef(r) === 'latest');
  if (latestRefs.length === 0) {
    const images = build.images;
    const wanted = build.tags.includes('latest');
    if (!wanted) {
      return [
        html`This build does not tag <code>latest</code>: the rules for ${refLabel(build.ref)} do not ask for it (or a higher version already has it), so
          ${images.length > 1 ? 'each image’s' : 'the image’s'} <code>latest</code> stays where it was.`,
      ];
    }
  }
  const lines = [];
  const targets = latestRefs.length > 0 ? latestRefs : build.images.map((i) => `${i}:latest`);
  for (const ref of targets) {
    const hold = held.find((h) => h.ref === ref);
    const push = pushed.find((p) => p.ref === ref);
    const image = html`<code>${imageOfRef(ref)}</code>`;
    if (push) {
      lines.push(html`${image}: <code>latest</code> moved to this build (<code title="${push.digest}">${shortDigest(push.digest)}</code>).`);
    } else if (hold) {
      lines.push(html`${image}: <code>latest</code> did not move — ${hold.reason || 'held back'}.`);
    } else if (build.status === 'queued' || build.status === 'running') {
      lines.push(html`${image}: <code>latest</code> is pushed last, once every other tag is in the registry — not yet.`);
    } else if (build.status === 'succeeded') {
      lines.push(html`${image}: <code>latest</code> was not pushed by this build.`);
    } else {
      lines.push(
        html`${image}: <code>latest</code> did not move — the build ${build.status} before it was pushed (<code>latest</code> only moves after every other tag
          succeeded).`,
      );
    }
  }
  return lines;
}

/**
 * One step, as the worker records it: `{step, status: running|done, startedAt, ms}`. A step
 * still "running" in a finished build is where it stopped, so it shows the build's end state.
 * @param {import('./api-types.js').BuildStep} step
 * @param {BuildRecord} build
 */
function stepItem(step, build) {
  /** @type {import('./api-types.js').BuildStatus} */
  let status = step.status === 'done' ? 'succeeded' : 'running';
  /** @type {string} */
  let label = step.status;
  if (step.status === 'running' && FINAL.has(build.status)) {
    status = build.status;
    label = build.status === 'succeeded' ? 'done' : build.status;
  }
  const started = toTime(step.startedAt);
  let ms = step.ms ?? NaN;
  if (!Number.isFinite(ms) && step.status === 'running' && !FINAL.has(build.status)) ms = Date.now() - started;
  return html`<li>${badge(status, label)} <span class="step-name">${step.step}</span> <span class="muted num">${formatDuration(ms)}</span></li>`;
}

/**
 * Where a build came from: a GitHub delivery, a remote trigger, or a retry of another build.
 * @param {string} origin
 */
function originText(origin) {
  if (!origin) return '';
  const retry = /^retry:(.+)$/.exec(origin);
  if (retry) return html`retry of ${buildLink({ id: retry[1] }, html`<code>${retry[1]}</code>`)}`;
  if (origin === 'trigger') return 'remote trigger';
  return html`GitHub delivery <code>${origin}</code>`;
}

/** @param {BuildRecord} build */
function buildDetails(build) {
  // A multi-platform build: the index digest above, each platform's image digest below it.
  const { pushed, held, platforms, steps, images, tags } = build;
  const canCancel = build.status === 'queued' || build.status === 'running';
  return html` <div class="build-head">
      <h1>${refLabel(build.ref)} <span class="muted">in</span> ${build.repository}</h1>
      <p class="status-line">${badge(build.status)}</p>
    </div>
    <div class="actions">
      <button type="button" data-action="retry" ${canCancel ? html` disabled` : ''}>Retry</button>
      <button type="button" data-action="cancel" class="danger" ${canCancel ? '' : html` disabled`}>Cancel</button>
    </div>
    ${build.reason ? html`<p class="notice reason"><strong>Why it ran:</strong> ${build.reason}</p>` : ''}
    ${build.error ? html`<p class="notice${build.status === 'failed' ? ' notice-error' : ''}"><strong>${build.status === 'failed' ? 'Error' : 'Why it stopped'}:</strong> ${build.error}</p>` : ''}
    <dl class="facts">
      <div>
        <dt>Build</dt>
        <dd><code>${build.id}</code></dd>
      </div>
      <div>
        <dt>Commit</dt>
        <dd><code>${build.sha}</code></dd>
      </div>
      ${
        build.build.commitMessage
          ? html`<div class="wide">
              <dt>Message</dt>
              <dd class="message">${build.build.commitMessage.split('\n')[0]}</dd>
            </div>`
          : ''
      }
      ${
        originText(build.origin)
          ? html`<div>
              <dt>Started by</dt>
              <dd>${originText(build.origin)}</dd>
            </div>`
          : ''
      }
      <div>
        <dt>Images</dt>
        <dd>${images.map((i) => html`<code>${i}</code> `)}</dd>
      </div>
      <div>
        <dt>Tags</dt>
        <dd>${tags.length ? tags.map((t) => html`<code class="tag">${t}</code> `) : html`<span class="muted">none</span>`}</dd>
      </div>
      <div>
        <dt>Created</dt>
        <dd>${timeAgo(build.createdAt)}</dd>
      </div>
      <div>
        <dt>Started</dt>
        <dd>${timeAgo(build.startedAt)}</dd>
      </div>
      <div>
        <dt>Finished</dt>
        <dd>${timeAgo(build.finishedAt)}</dd>
      </div>
      <div>
        <dt>Duration</dt>
        <dd>${buildDuration(build) || html`<span class="muted">—</span>`}</dd>
      </div>
      <div class="wide">
        <dt>${platforms.length ? 'Index digest' : 'Digest'}</dt>
        <dd>${build.digest ? html`<code class="digest">${build.digest}</code>` : html`<span class="muted">—</span>`}</dd>
      </div>
      ${platforms.map(
        (p) =>
          html`<div class="wide platform">
            <dt>${p.platform}</dt>
            <dd><code class="digest">${p.digest}</code></dd>
          </div>`,
      )}
    </dl>
    <section aria-labelledby="h-latest">
      <h2 id="h-latest">Latest</h2>
      <ul class="story">
        ${latestStory(build).map((line) => html`<li>${line}</li>`)}
      </ul>
    </section>
    <section aria-labelledby="h-pushed">
      <h2 id="h-pushed">Pushed</h2>
      ${
        pushed.length
          ? html`<table class="pushed">
              <thead>
                <tr>
                  <th scope="col">Reference</th>
                  <th scope="col">Digest</th>
                </tr>
              </thead>
              <tbody>
                ${pushed.map(
                  (p) =>
                    html`<tr>
                      <td><code>${p.ref}</code></td>
                      <td><code class="digest" title="${p.digest}">${p.digest}</code></td>
                    </tr>`,
                )}
              </tbody>
            </table>`
          : html`<p class="muted">Nothing pushed${FINAL.has(build.status) ? '' : ' yet'}.</p>`
      }
      ${
        held.length
          ? html`<h3>Held back</h3>
              <ul class="held">
                ${held.map((h) => html`<li><code>${h.ref}</code> — ${h.reason}</li>`)}
              </ul>`
          : ''
      }
    </section>
    <section aria-labelledby="h-steps">
      <h2 id="h-steps">Steps</h2>
      ${
        steps.length
          ? html`<ol class="steps">
              ${steps.map((s) => stepItem(s, build))}
            </ol>`
          : html`<p class="muted">No steps yet.</p>`
      }
    </section>`;
}

// ANSI colour and cursor sequences from docker/buildah output: shown as plain text they are noise.
const ANSI = /\x1b\[[0-9;?]*[ -\/]*[@-~]/g;

/**
 * Appends a streamed log to `pre`, at most once a frame, keeping the end in view while
 * `followBox` is ticked.
 * @param {HTMLPreElement} pre
 * @param {HTMLInputElement} followBox
 * @param {AbortSignal} signal
 */
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
    reset() {
      pre.textContent = '';
      pending = '';
      carry = '';
    },
    /**
     * Text only (never markup): a log line is whatever the build printed.
     * @param {string} chunk
     */
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
      if (!scheduled && !signal.aborted) {
        scheduled = true;
        requestAnimationFrame(flush);
      }
    },
  };
}

/**
 * @param {string} id
 * @param {boolean} follow
 * @param {ReturnType<typeof logFollower>} log
 * @param {AbortSignal} signal
 * @param {() => void} [onFirstText] called once, when the first text arrives
 */
async function readLog(id, follow, log, signal, onFirstText) {
  const response = await fetch(`/api/builds/${encodeURIComponent(id)}/log${follow ? '?follow=1' : ''}`, {
    signal,
    credentials: 'same-origin',
    headers: { accept: 'text/plain' },
  });
  if (response.status === 401) {
    signedOut();
    return;
  }
  if (response.status === 404) return;
  if (!response.ok || !response.body) throw new ApiError(`log: ${response.status}`, response.status);
  log.reset();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let first = true;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    log.add(value);
    if (first && value) {
      first = false;
      onFirstText?.();
    }
  }
}

/**
 * Shows build `id` in `main`; `stop()` ends its refreshing and log stream.
 * @param {HTMLElement} main
 * @param {string} id
 * @returns {{ stop(): void }}
 */
export function buildView(main, id) {
  const controller = new AbortController();
  const { signal } = controller;
  document.title = `Build ${id} · autobuild`;
  setHtml(
    main,
    html` <nav class="crumbs" aria-label="Breadcrumb">
        <a href="#/builds">Builds</a> <span aria-hidden="true">›</span> <span aria-current="page">${id}</span>
      </nav>
      <p class="notice notice-error" role="alert" hidden></p>
      <p class="visually-hidden" role="status" aria-live="polite"></p>
      <div class="build-details"><p class="muted">Loading…</p></div>
      <section aria-labelledby="h-log" class="log">
        <div class="log-head">
          <h2 id="h-log">Log</h2>
          <label><input type="checkbox" class="follow" checked /> Follow the end</label>
        </div>
        <pre class="log-text" tabindex="0" aria-label="Build log"></pre>
      </section>`,
  );
  const problem = element(main, '[role=alert]', HTMLElement);
  const details = element(main, '.build-details', HTMLElement);
  const announcer = element(main, '[role=status]', HTMLElement);
  let announced = '';
  const pre = element(main, 'pre.log-text', HTMLPreElement);
  const log = logFollower(pre, element(main, 'input.follow', HTMLInputElement), signal);
  /** @type {BuildRecord | null} */
  let build = null;
  let renderedText = '';
  let streaming = false;

  /** @param {BuildRecord} build */
  const render = (build) => {
    const text = piece(buildDetails(build));
    if (text === renderedText || selecting(details)) return;
    if (build.status !== announced) {
      // One live region that stays in place, told only when the status changes.
      if (announced) announcer.textContent = `Build ${build.status}.`;
      announced = build.status;
    }
    // Keep keyboard focus on the action buttons across re-renders.
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement.dataset.action : undefined;
    details.innerHTML = text;
    renderedText = text;
    const again = focused ? details.querySelector(`[data-action="${focused}"]`) : null;
    if (again instanceof HTMLElement) again.focus();
  };

  const follow = async () => {
    // Streams the log while the build runs; if the connection drops, read it again from the start.
    if (streaming) return;
    streaming = true;
    try {
      while (!signal.aborted) {
        const live = !FINAL.has(build?.status);
        // A queued build whose log starts has started: show it running now, not at the next poll.
        await readLog(id, live, log, signal, () => {
          if (build?.status === 'queued') refresh().catch(() => undefined);
        });
        if (!live) break;
        await refresh();
        if (FINAL.has(build?.status)) {
          await readLog(id, false, log, signal);
          break;
        }
        await new Promise((r) => setTimeout(r, 1000));
      }
    } catch (err) {
      if (!isAbort(err)) showProblem(problem, err);
    } finally {
      streaming = false;
    }
  };

  const refresh = async () => {
    /** @type {BuildRecord} */
    const record = await api(`/api/builds/${encodeURIComponent(id)}`, { signal });
    build = record;
    showProblem(problem, null);
    render(record);
  };

  details.addEventListener('click', async (event) => {
    const button = event.target instanceof Element ? event.target.closest('button[data-action]') : null;
    if (!(button instanceof HTMLButtonElement)) return;
    const action = button.dataset.action;
    button.disabled = true;
    try {
      /** @type {import('./api-types.js').RetryAnswer | import('./api-types.js').CancelAnswer} */
      const answer = await api(`/api/builds/${encodeURIComponent(id)}/${action}`, { method: 'POST', signal });
      // A retry answers with the new build's id in `{builds: [id]}`; a cancel with `{id, status}`.
      const next = 'builds' in answer ? answer.builds[0] : undefined;
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
  const poll = poller(
    async () => {
      try {
        await refresh();
        if (first) {
          first = false;
          follow();
        }
        if (build) document.title = `${build.status} · ${describeRef(build.ref).name} · autobuild`;
      } catch (err) {
        if (!isAbort(err)) showProblem(problem, err instanceof ApiError && err.status === 404 ? new ApiError(`No build ${id}.`, 404) : err);
        throw err;
      }
    },
    () => (FINAL.has(build?.status) ? FINISHED_POLL_MS : POLL_MS),
  );
  return {
    stop() {
      poll.stop();
      controller.abort();
    },
  };
}
