// @ts-check
// The builds list: newest first, filters kept in the address, refreshed every POLL_MS; only the
// first page is polled, older pages come from "Load more".
import { api, isAbort, poller, POLL_MS, showProblem } from './api.js';
import { badge, buildDuration, buildLink, refLabel, shortSha, STATUSES, timeAgo, toTime } from './format.js';
import { element, html, piece, selecting, setHtml } from './markup.js';

/** @typedef {import('./api-types.js').BuildSummary} BuildSummary */

const PAGE_SIZE = 50;

/** @param {BuildSummary} build */
function buildRow(build) {
  const tags = build.tags;
  const shown = tags.slice(0, 4);
  return html`<tr data-id="${build.id}" class="status-${build.status}">
    <td>${badge(build.status)}</td>
    <td class="repo">${build.repository}</td>
    <td class="ref">${buildLink(build, refLabel(build.ref))}</td>
    <td><code title="${build.sha ?? ''}">${shortSha(build.sha)}</code></td>
    <td class="tags">
      ${shown.map((t) => html`<code class="tag">${t}</code> `)}${tags.length > shown.length ? html`<span class="muted">+${tags.length - shown.length}</span>` : ''}
    </td>
    <td>${timeAgo(build.createdAt)}</td>
    <td class="num">${buildDuration(build) || html`<span class="muted">—</span><span class="visually-hidden">not started</span>`}</td>
  </tr>`;
}

/**
 * Shows the list in `main`; `stop()` ends its refreshing.
 * @param {HTMLElement} main
 * @param {{ repository: string, status: string }} filters
 * @returns {{ stop(): void }}
 */
export function buildsView(main, filters) {
  const controller = new AbortController();
  document.title = 'Builds · autobuild';
  setHtml(
    main,
    html` <h1>Builds</h1>
      <form class="filters" role="search" aria-label="Filter builds">
        <label
          >Repository
          <input name="repository" list="known-repositories" value="${filters.repository}" placeholder="owner/name" autocomplete="off" spellcheck="false"
        /></label>
        <datalist id="known-repositories"></datalist>
        <label
          >Status
          <select name="status">
            <option value="">any</option>
            ${STATUSES.map((s) => html`<option value="${s}" ${s === filters.status ? html` selected` : ''}>${s}</option>`)}
          </select></label
        >
        <button type="submit">Filter</button>
        ${filters.repository || filters.status ? html`<a href="#/builds">Clear filters</a>` : ''}
      </form>
      <p class="notice notice-error" role="alert" hidden></p>
      <div class="table-scroll">
        <table class="builds">
          <caption class="visually-hidden">
            Builds, newest first${filters.repository ? `, repository ${filters.repository}` : ''}${filters.status ? `, status ${filters.status}` : ''}
          </caption>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Repository</th>
              <th scope="col">Ref</th>
              <th scope="col">Commit</th>
              <th scope="col">Tags</th>
              <th scope="col">Created</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody></tbody>
        </table>
      </div>
      <p class="empty muted" hidden></p>
      <p class="more-row"><button type="button" class="more" hidden>Load more</button></p>`,
  );

  const form = element(main, 'form.filters', HTMLFormElement);
  const repositoryInput = element(form, 'input[name=repository]', HTMLInputElement);
  const statusSelect = element(form, 'select[name=status]', HTMLSelectElement);
  const problem = element(main, '[role=alert]', HTMLElement);
  const tbody = element(main, 'tbody', HTMLTableSectionElement);
  const empty = element(main, 'p.empty', HTMLElement);
  const more = element(main, 'button.more', HTMLButtonElement);
  const datalist = element(main, '#known-repositories', HTMLDataListElement);

  /** @type {BuildSummary[]} */
  let builds = [];
  let hasMore = false;
  /** @type {{ ids: string, rows: Map<string, string> }} */
  let rendered = { ids: '', rows: new Map() };

  const apply = () => {
    const p = new URLSearchParams();
    const repository = repositoryInput.value.trim();
    if (repository) p.set('repository', repository);
    if (statusSelect.value) p.set('status', statusSelect.value);
    const hash = `#/builds${p.size ? `?${p}` : ''}`;
    if (window.location.hash !== hash) window.location.hash = hash;
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    apply();
  });
  statusSelect.addEventListener('change', apply);
  repositoryInput.addEventListener('change', apply);

  /** @param {Record<string, string>} extra */
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
        const id = row.dataset.id ?? '';
        const next = rows.get(id);
        if (next !== undefined && next !== rendered.rows.get(id)) row.outerHTML = next;
      }
    } else {
      tbody.innerHTML = [...rows.values()].join('');
    }
    rendered = { ids, rows };
    empty.hidden = builds.length > 0;
    empty.textContent =
      filters.repository || filters.status
        ? 'No builds match these filters.'
        : 'No builds yet. Push to a configured repository (or send its webhook) and the build shows up here.';
    more.hidden = !hasMore;
    const repos = [...new Set(builds.map((b) => b.repository).filter(Boolean))].sort();
    if (datalist.childElementCount !== repos.length)
      setHtml(
        datalist,
        repos.map((r) => html`<option value="${r}"></option>`),
      );
  };

  const refresh = async () => {
    /** @type {import('./api-types.js').BuildList} */
    const answer = await api(query({}), { signal: controller.signal });
    const page = answer.builds;
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
      /** @type {import('./api-types.js').BuildList} */
      const answer = await api(query({ before: last.id }), { signal: controller.signal });
      const page = answer.builds;
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
    try {
      await refresh();
    } catch (err) {
      if (!isAbort(err)) showProblem(problem, err);
      throw err;
    }
  }, POLL_MS);
  return {
    stop() {
      poll.stop();
      controller.abort();
    },
  };
}
