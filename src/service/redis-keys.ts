// Every Redis key autobuild writes, named in one place (BullMQ keeps its own `bull:*` keys).
// Lua scripts get these names as KEYS or build them from `PREFIX`, never spell them again.

export const PREFIX = 'autobuild:';

/**
 * A delivery's name across forges, which its build ids and its `delivery:` key follow: GitHub's
 * id as it is (the form kept from before other forges existed), any other forge's `forge:id`.
 * A GitHub id holding a `:` is named `github:id` too, so no GitHub id (`gitlab:X`, which the
 * sender chooses) can pass for another forge's delivery X.
 */
export function deliveryName(forge: string, id: string): string {
  return forge === 'github' && !id.includes(':') ? id : `${forge}:${id}`;
}

export const redisKeys = {
  /** Hash: one build record (build-records.ts). */
  build: (id: string) => `${PREFIX}build:${id}`,
  /** Sorted set of every build id by queue order. */
  builds: `${PREFIX}builds`,
  /** Sorted set of one repository's build ids by queue order. */
  buildsOfRepository: (repository: string) => `${PREFIX}builds:repo:${repository.toLowerCase()}`,
  /** Counter giving each new build its queue order. */
  buildSeq: `${PREFIX}build-seq`,
  /** String: the newest build id of a branch (by queue order), for superseding. `hash` names the branch. */
  branch: (hash: string) => `${PREFIX}branch:${hash}`,
  /** String: the first answer to a delivery (named by deliveryName), so a redelivery gets it again. */
  delivery: (forge: string, id: string) => `${PREFIX}delivery:${deliveryName(forge, id)}`,
  /** Stream: accepted deliveries whose jobs are still to be queued (intake-inbox.ts). */
  inbox: `${PREFIX}inbox`,
  /** Stream: one build's log lines (build-log.ts). */
  log: (id: string) => `${PREFIX}log:${id}`,
  /** String: the lock held while a build moves an image's moving tags (image-lock.ts). */
  imageLock: (image: string) => `${PREFIX}lock:image:${image}`,
  /** String: the newest queue order (`seq`) of a build that pushed this image:tag (push-order.ts). */
  pushedSeq: (ref: string) => `${PREFIX}pushed-seq:${ref}`,
  /** Hash: the builds rebuild-on-base-change follows, field `repository\0slot` (base-watch.ts). */
  baseWatch: `${PREFIX}base-watch`,
  /** String: set once a base change (repository + base + new digest, hashed) was rebuilt. */
  baseRebuilt: (hash: string) => `${PREFIX}base-rebuilt:${hash}`,
  /**
   * String: one dashboard session (auth/sessions.ts), keyed by the SHA-256 of its id (never the
   * id itself); the value is the session's hard end, the key's expiry its idle end.
   */
  session: (idHash: string) => `${PREFIX}session:${idHash}`,
} as const;

/** The consumer group that turns inbox entries into jobs. */
export const INBOX_GROUP = 'autobuild-intake';
