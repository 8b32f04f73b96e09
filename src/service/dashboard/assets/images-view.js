// @ts-check
// Images: every configured image with its registry tags, tags on one digest shown as one row.
import { api, isAbort, poller, showProblem } from './api.js';
import { element, html, piece, selecting, setHtml } from './markup.js';

/** @typedef {import('./api-types.js').ImageTags} ImageTags */
/** @typedef {import('./api-types.js').WatchEntry} WatchEntry */

const IMAGES_POLL_MS = 15000;

/**
 * `v1.2.3` -> [1, 2, 3]; null for a tag that is not a version.
 * @param {string} tag
 * @returns {number[] | null}
 */
function versionParts(tag) {
  const m = /^v?(\d+(?:\.\d+)*)$/.exec(tag);
  return m ? m[1].split('.').map(Number) : null;
}

/**
 * @param {number[]} a
 * @param {number[]} b
 */
function compareVersions(a, b) {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Within one digest: the most specific version first, then other names, `latest` last.
 * @param {string} a
 * @param {string} b
 */
function compareTagsInGroup(a, b) {
  if (a === 'latest' || b === 'latest') return Number(a === 'latest') - Number(b === 'latest');
  const va = versionParts(a);
  const vb = versionParts(b);
  if (va && vb) return vb.length - va.length || compareVersions(vb, va);
  if (va || vb) return va ? -1 : 1;
  return a.localeCompare(b);
}

/**
 * Tags sharing a manifest digest are one image: `1.2.3`, `1.2`, `1`, `latest` make one row.
 * @param {ImageTags['tags']} tags
 * @returns {{ digest: string, tags: string[] }[]}
 */
function groupByDigest(tags) {
  /** @type {Map<string, { digest: string, tags: string[] }>} */
  const groups = new Map();
  for (const t of tags) {
    const group = groups.get(t.digest) ?? { digest: t.digest, tags: [] };
    groups.set(t.digest, group);
    group.tags.push(t.tag);
  }
  const list = [...groups.values()];
  for (const g of list) g.tags.sort(compareTagsInGroup);
  /** @param {{ tags: string[] }} g */
  const rank = (g) => {
    const v = g.tags
      .map(versionParts)
      .filter((p) => p !== null)
      .sort(compareVersions)
      .pop();
    return { latest: g.tags.includes('latest'), v };
  };
  // The group holding `latest` first, then the highest version, then the rest by name.
  return list.sort((x, y) => {
    const rx = rank(x);
    const ry = rank(y);
    if (rx.latest !== ry.latest) return rx.latest ? -1 : 1;
    if (rx.v && ry.v) return compareVersions(ry.v, rx.v);
    if (rx.v || ry.v) return rx.v ? -1 : 1;
    return String(x.tags[0]).localeCompare(String(y.tags[0]));
  });
}

/** @type {Record<import('./api-types.js').WatchedBase['state'], string>} */
const BASE_STATES = { ok: 'followed', missing: 'gone from its registry: not rebuilt', unavailable: 'could not be checked: tried again next round' };

/**
 * Rebuild on base change: the FROM images of the builds followed for this image, with their digests.
 * @param {WatchEntry[]} entries
 */
function basesTable(entries) {
  if (!entries.length) return '';
  return html`<h3>Base images</h3>
    <table class="bases">
      <thead>
        <tr>
          <th scope="col">Build</th>
          <th scope="col">Base image</th>
          <th scope="col">Digest</th>
          <th scope="col">State</th>
          <th scope="col">Last checked</th>
        </tr>
      </thead>
      <tbody>
        ${entries.flatMap((e) =>
          e.bases.map(
            (b) =>
              html`<tr>
                <td>${e.slot === 'release' ? 'newest release' : e.slot.replace(/^refs\/heads\//, '')} <a href="#/builds/${e.buildId}">${e.buildId}</a></td>
                <td><code>${b.ref}</code></td>
                <td>${b.digest ? html`<code class="digest" title="${b.digest}">${b.digest}</code>` : html`<span class="muted">unknown</span>`}</td>
                <td>${BASE_STATES[b.state]}${b.note ? html` <span class="muted">(${b.note})</span>` : ''}</td>
                <td>${e.checkedAt ? html`<time datetime="${e.checkedAt}">${e.checkedAt}</time>` : html`<span class="muted">not yet</span>`}</td>
              </tr>`,
          ),
        )}
      </tbody>
    </table>`;
}

/**
 * @param {ImageTags} image
 * @param {number} index
 * @param {WatchEntry[]} bases
 */
function imageSection(image, index, bases) {
  const groups = groupByDigest(image.tags);
  const headingId = `image-${index}`;
  return html`<section class="image" aria-labelledby="${headingId}">
    <h2 id="${headingId}"><code>${image.image}</code></h2>
    <p class="muted">from ${image.repository}</p>
    ${image.error ? html`<p class="notice notice-error">Registry: ${image.error}</p>` : ''}
    ${
      groups.length
        ? html`<table class="digests">
            <thead>
              <tr>
                <th scope="col">Tags</th>
                <th scope="col">Digest</th>
              </tr>
            </thead>
            <tbody>
              ${groups.map(
                (g) =>
                  html`<tr>
                    <td>${g.tags.map((t) => html`<code class="tag">${t}</code> `)}</td>
                    <td><code class="digest" title="${g.digest}">${g.digest}</code></td>
                  </tr>`,
              )}
            </tbody>
          </table>`
        : image.error
          ? ''
          : html`<p class="muted">No tags in the registry yet.</p>`
    }
    ${basesTable(bases.filter((e) => e.build.images.includes(image.image)))}
  </section>`;
}

/**
 * Shows the images in `main`; `stop()` ends its refreshing.
 * @param {HTMLElement} main
 * @returns {{ stop(): void }}
 */
export function imagesView(main) {
  const controller = new AbortController();
  document.title = 'Images · autobuild';
  setHtml(
    main,
    html` <div class="page-head">
        <h1>Images</h1>
        <button type="button" class="refresh">Refresh</button>
      </div>
      <p class="muted">Every configured image with its tags in the registry; tags on the same digest are one row.</p>
      <p class="notice notice-error" role="alert" hidden></p>
      <div class="images" aria-busy="true"><p class="muted">Asking the registries…</p></div>`,
  );
  const problem = element(main, '[role=alert]', HTMLElement);
  const list = element(main, '.images', HTMLElement);
  let renderedText = '';
  const refresh = async () => {
    try {
      /** @type {[import('./api-types.js').ImagesAnswer, import('./api-types.js').BasesAnswer]} */
      const [answer, watched] = await Promise.all([api('/api/images', { signal: controller.signal }), api('/api/bases', { signal: controller.signal })]);
      const images = answer.images;
      const bases = watched.bases;
      showProblem(problem, null);
      const text = images.length ? piece(images.map((image, i) => imageSection(image, i, bases))) : piece(html`<p class="muted">No images configured.</p>`);
      if (text !== renderedText && !selecting(list)) {
        list.innerHTML = text;
        renderedText = text;
      }
      list.removeAttribute('aria-busy');
    } catch (err) {
      if (!isAbort(err)) showProblem(problem, err);
      throw err;
    }
  };
  element(main, 'button.refresh', HTMLButtonElement).addEventListener('click', () => {
    refresh().catch(() => {});
  });
  const poll = poller(refresh, IMAGES_POLL_MS);
  return {
    stop() {
      poll.stop();
      controller.abort();
    },
  };
}
