// @ts-check
// autobuild dashboard: a small single-page app over the service's JSON API, plain ES modules
// with no framework and no build step. This file routes `#/...` addresses to the page views and
// keeps the queue's health in the header.
import { api, ApiError, poller } from './api.js';
import { buildView } from './build-view.js';
import { buildsView } from './builds-view.js';
import { imagesView } from './images-view.js';
import { element, html, piece } from './markup.js';

const QUEUE_POLL_MS = 3000;

const main = element(document, '#main', HTMLElement);
/** @type {{ stop(): void } | null} */
let currentView = null;

/**
 * The page an address names.
 * @typedef {{ name: 'build', id: string } | { name: 'images' } | { name: 'builds', repository: string, status: string }} Place
 * @returns {Place}
 */
function parseHash() {
  const raw = window.location.hash.replace(/^#/, '') || '/builds';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const parts = path
    .split('/')
    .filter(Boolean)
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  if (parts[0] === 'builds' && parts[1]) return { name: 'build', id: parts[1] };
  if (parts[0] === 'images') return { name: 'images' };
  return { name: 'builds', repository: params.get('repository') ?? '', status: params.get('status') ?? '' };
}

let currentPlace = '';

/** @param {boolean} focus */
function route(focus) {
  if (currentView) currentView.stop();
  const where = parseHash();
  const place = where.name === 'build' ? `build:${where.id}` : where.name;
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (!(link instanceof HTMLElement)) continue;
    const here = link.dataset.nav === (where.name === 'build' ? 'builds' : where.name);
    if (here) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (where.name === 'build') currentView = buildView(main, where.id);
  else if (where.name === 'images') currentView = imagesView(main);
  else currentView = buildsView(main, where);
  // On a new page (not a new filter), move focus there so screen readers start reading it.
  if (focus && place !== currentPlace) main.focus({ preventScroll: false });
  currentPlace = place;
}

function startQueue() {
  const box = element(document, '#queue', HTMLElement);
  /** @type {(keyof import('./api-types.js').QueueCounts)[]} */
  const fields = ['waiting', 'active', 'failed', 'delayed'];
  let last = '';
  poller(async () => {
    let markup;
    try {
      /** @type {import('./api-types.js').QueueCounts} */
      const q = await api('/api/queue');
      markup = piece(
        fields.map(
          (f) =>
            html`<div class="q-${f}${f === 'failed' && q[f] > 0 ? ' warn' : ''}">
              <dt>${f}</dt>
              <dd>${q[f]}</dd>
            </div>`,
        ),
      );
    } catch (err) {
      markup = piece(
        html`<div class="warn">
          <dt>Queue</dt>
          <dd>${err instanceof ApiError ? 'unavailable' : 'unreachable'}</dd>
        </div>`,
      );
    }
    if (markup !== last) {
      box.innerHTML = markup;
      last = markup;
    }
  }, QUEUE_POLL_MS);
}

window.addEventListener('hashchange', () => route(true));
route(false);
startQueue();
