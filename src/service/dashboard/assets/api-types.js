// @ts-check
// The JSON the service's API sends, as the dashboard reads it: types only, nothing runs. Written
// from the server side (src/service/api.ts, build-records.ts `BuildRecord` and `summary`,
// base-watch.ts `WatchEntry`, build-queue.ts `QueueCounts`, registry-client.ts `TagDigest`); when
// one of those changes, change it here too and `npm run lint` shows which page reads it.

/** @typedef {'queued' | 'running' | 'succeeded' | 'failed' | 'canceled' | 'superseded'} BuildStatus */

/** @typedef {{ step: string, status: 'running' | 'done', startedAt: string, ms?: number }} BuildStep */

/**
 * One row of `GET /api/builds` (build-records.ts `summary`).
 * @typedef {object} BuildSummary
 * @property {string} id
 * @property {string} repository
 * @property {string} ref `refs/heads/main`, `refs/tags/v1.2.3`, `refs/pull/7/merge`
 * @property {string} sha
 * @property {string[]} images
 * @property {string[]} tags
 * @property {BuildStatus} status
 * @property {string} createdAt ISO time
 * @property {string | null} startedAt
 * @property {string | null} finishedAt
 * @property {string | null} digest the image's (or the multi-platform index's) manifest digest
 * @property {string | null} error
 * @property {{ platform: string, digest: string }[]} platforms
 * @property {string | null} reason why it ran when no push asked for it
 */

/**
 * `GET /api/builds/:id`: the whole record (build-records.ts `BuildRecord`).
 * @typedef {BuildSummary & {
 *   refs: string[],
 *   pushed: { ref: string, digest: string }[],
 *   held: { ref: string, reason: string }[],
 *   steps: BuildStep[],
 *   origin: string,
 *   build: QueuedBuild,
 * }} BuildRecord
 */

/**
 * The planned build as queued; the dashboard reads only these of its fields.
 * @typedef {{ images: string[], commitMessage?: string }} QueuedBuild
 */

/** @typedef {{ builds: BuildSummary[] }} BuildList `GET /api/builds` */

/** @typedef {{ builds: string[], retryOf: string }} RetryAnswer `POST /api/builds/:id/retry` (202) */

/** @typedef {{ id: string, status: 'canceled', was: 'queued' | 'running' }} CancelAnswer `POST /api/builds/:id/cancel` */

/** @typedef {{ waiting: number, active: number, failed: number, delayed: number, completed: number }} QueueCounts `GET /api/queue` */

/**
 * One configured image in `GET /api/images`; `error` when its registry could not be read.
 * @typedef {{ image: string, repository: string, tags: { tag: string, digest: string }[], error?: string }} ImageTags
 */

/** @typedef {{ images: ImageTags[] }} ImagesAnswer `GET /api/images` */

/**
 * A FROM image followed for rebuild on base change (base-watch.ts `WatchedBase`).
 * @typedef {{ ref: string, digest: string | null, state: 'ok' | 'missing' | 'unavailable', note?: string }} WatchedBase
 */

/**
 * One followed build and its bases (base-watch.ts `WatchEntry`).
 * @typedef {object} WatchEntry
 * @property {string} repository
 * @property {string} slot `release` or the branch ref
 * @property {string} buildId
 * @property {QueuedBuild} build
 * @property {WatchedBase[]} bases
 * @property {string} recordedAt
 * @property {string | null} checkedAt
 */

/** @typedef {{ bases: WatchEntry[] }} BasesAnswer `GET /api/bases` */

/** An error answer (`{error}`; fastify's own, such as an unknown route, also has `message`). @typedef {{ error?: string, message?: string }} ErrorAnswer */

export {};
