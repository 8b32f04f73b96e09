// Talking to the service's JSON API, and refreshing a page from it while it is open.

// Builds change fast while they run: the list and a running build are read this often.
export const POLL_MS = 2000;

export class ApiError extends Error {
  constructor(message, status) { super(message); this.status = status; }
}

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
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  if (!response.ok) {
    const why = (body && (body.message || body.error)) || text.trim() || response.statusText;
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
    note.textContent = 'The API refuses this session (401) although the page let you in. Sign out and in again; '
      + 'if a proxy in front of autobuild adds an Authorization: Bearer header, it decides alone: let the proxy send the API token on every request, or none.';
    document.getElementById('main')?.prepend(note);
    return;
  }
  window.sessionStorage.setItem(RELOADED_AT, String(Date.now()));
  window.location.reload();
}

export function isAbort(err) {
  return err && err.name === 'AbortError';
}

/**
 * Calls `tick` now and then every `ms` (a number, or a function giving the next pause) while
 * the tab is visible; `stop()` ends it.
 */
export function poller(tick, ms) {
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

export function showProblem(element, err) {
  if (!element) return;
  if (!err) { element.hidden = true; element.textContent = ''; return; }
  element.hidden = false;
  element.textContent = err.status ? err.message : `Cannot reach the server (${err.message}); trying again…`;
}
