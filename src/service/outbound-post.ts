// Outgoing notifications (GitHub commit statuses, Docker Hub-style webhooks) are best effort:
// retried with backoff on network errors and 5xx/429, never able to fail a build.

export interface PostOptions {
  headers?: Record<string, string>;
  attempts?: number;
  /** First retry after this long, doubling each time. */
  baseDelayMs?: number;
  timeoutMs?: number;
}

export interface PostOutcome {
  ok: boolean;
  status?: number;
  error?: string;
  attempts: number;
}

export async function postJson(url: string, body: unknown, opts: PostOptions = {}): Promise<PostOutcome> {
  const attempts = opts.attempts ?? 4;
  let delay = opts.baseDelayMs ?? 500;
  let last: PostOutcome = { ok: false, attempts: 0 };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'autobuild', ...opts.headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
      });
      await res.arrayBuffer().catch(() => undefined);
      last = { ok: res.ok, status: res.status, attempts: attempt };
      // A 4xx other than 429 will not change by asking again.
      if (res.ok || (res.status < 500 && res.status !== 429)) return last;
    } catch (err) {
      last = { ok: false, error: (err as Error).message, attempts: attempt };
    }
    if (attempt < attempts) {
      await new Promise((r) => setTimeout(r, delay));
      delay *= 2;
    }
  }
  return last;
}
