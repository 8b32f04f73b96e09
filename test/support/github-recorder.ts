// Stands in for GitHub's API and for webhook receivers: records every request (method, path,
// headers, JSON body) and answers 201 to commit statuses, 200 to anything else.
import { createServer, type IncomingHttpHeaders } from 'node:http';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
  at: number;
}

export interface Recorder {
  url: string;
  requests: RecordedRequest[];
  /** Resolves with the matching requests once `count` of them arrived. */
  waitFor(match: (r: RecordedRequest) => boolean, count?: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  stop(): Promise<void>;
}

/** A test's own answer to a request; undefined falls back to the recorder's default. */
export type Answer = (req: RecordedRequest) => { status: number; body?: unknown; headers?: Record<string, string> } | undefined;

export async function startRecorder(opts: { answer?: Answer } = {}): Promise<Recorder> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // Keep the text; the test decides whether that is wrong.
      }
      const recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, at: Date.now() };
      requests.push(recorded);
      const own = opts.answer?.(recorded);
      if (own) {
        res.writeHead(own.status, { 'content-type': 'application/json', ...own.headers });
        res.end(own.body === undefined ? '' : JSON.stringify(own.body));
        return;
      }
      const isStatus = req.method === 'POST' && /\/statuses\//.test(req.url ?? '');
      res.writeHead(isStatus ? 201 : 200, { 'content-type': 'application/json' });
      res.end(isStatus ? JSON.stringify({ id: requests.length, state: (body as { state?: string })?.state }) : '{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async waitFor(match, count = 1, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = requests.filter(match);
        if (found.length >= count) return found;
        if (Date.now() > deadline) throw new Error(`recorder: ${found.length}/${count} matching requests after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
