// @ts-check
// Talking to the service's JSON API, and refreshing a page from it while it is open.

// Builds change fast while they run: the list and a running build are read this often.
export const POLL_MS = 2000;

/** An answer other than 2xx; `status` is its HTTP status. */
export class ApiError extends Error {
  /**
   * @param {string} message
   * @param {number} status
   */
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

/**
 * The JSON answer of `path`. The caller names the shape it expects (`api-types.js`), as the
 * server's code for that path sends it; throws ApiError for any non-2xx answer.
 * @template T
 * @param {string} path
 * @param {{ method?: 'GET' | 'POST', signal?: AbortSignal }} [options]
 * @returns {Promise<T>}
 */
export async function api(path, { method = 'GET', signal } = {}) {
  // The session cookie goes along by itself (same origin); the browser adds `Sec-Fetch-Site` and
  // `Origin` to POSTs, which the server checks, so another site cannot make this browser retry or
  // cancel a build.
  const response = await fetch(path, { method, signal, headers: { accept: 'application/json' }, credentials: 'same-origin' });
  if (response.status === 401) {
    signedOut();
    throw new ApiError('signed out', 401);
  }
  const text = await response.text();
  /** @type {any} */
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const answer = /** @type {import('./api-types.js').ErrorAnswer | null} */ (body);
    const why = (answer && (answer.message || answer.error)) || text.trim() || response.statusText;
    throw new ApiError(`${method} ${path}: ${response.status} ${why}`, response.status);
  }
  return body;
}

let signingOut = false;
const RELOADED_AT = 'autobuild-signed-out-at';
export function signedOut() {
  // The token changed or the cookie went away: reloaded, the server shows the sign-in form, which
  // brings the user back to this same page (its `#/...`) once signed in again.
  if (signingOut) return;
  signingOut = true;
  // If the page itself was let in but the API is not (a proxy adding its own Bearer header to
  // some requests only, say), reloading would loop: say so once instead.
  const last = Number(window.sessionStorage.getItem(RELOADED_AT) || 0);
  if (Date.now() - last < 15000) {
    const note = document.createElement('p');
    note.className = 'notice notice-error';
    note.setAttribute('role', 'alert');
    note.textContent =
      'The API refuses this session (401) although the page let you in. Sign out and in again; ' +
      'if a proxy in front of autobuild adds an Authorization: Bearer header, it decides alone: let the proxy send the API token on every request, or none.';
    document.getElementById('main')?.prepend(note);
    return;
  }
  window.sessionStorage.setItem(RELOADED_AT, String(Date.now()));
  window.location.reload();
}

/** @param {unknown} err */
export function isAbort(err) {
  return typeof err === 'object' && err !== null && 'name' in err && err.name === 'AbortError';
}

/**
 * Calls `tick` now and then every `ms` (a number, or a function giving the next pause) while
 * the tab is visible; `stop()` ends it.
 * @param {() => Promise<void>} tick
 * @param {number | (() => number)} ms
 * @returns {{ stop(): void }}
 */
export function poller(tick, ms) {
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;
  let stopped = false;
  const run = async () => {
    timer = null;
    if (stopped) return;
    if (!document.hidden) {
      try {
        await tick();
      } catch (err) {
        if (!isAbort(err)) console.error(err);
      }
    }
    if (!stopped) timer = setTimeout(run, typeof ms === 'function' ? ms() : ms);
  };
  run();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

/**
 * Shows what went wrong in the page's alert line, or hides it (`err` null).
 * @param {HTMLElement} element
 * @param {unknown} err
 */
export function showProblem(element, err) {
  if (!err) {
    element.hidden = true;
    element.textContent = '';
    return;
  }
  element.hidden = false;
  element.textContent = err instanceof ApiError ? err.message : `Cannot reach the server (${err instanceof Error ? err.message : String(err)}); trying again…`;
}
