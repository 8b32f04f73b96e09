import { describe, expect, it } from 'vitest';
import { isTransientPushFailure } from '../../src/adapters/builders/builder.js';

// The last lines docker and buildah print when a push fails, as seen against a real registry (or
// the 503 proxy of the integration tests); a transient one is tried again, the others fail at once.
describe('a failed push is retried only when trying again may help', () => {
  const rows: { name: string; tail: string[]; transient: boolean }[] = [
    { name: 'docker: 503 from the registry', tail: ['received unexpected HTTP status: 503 Service Unavailable'], transient: true },
    {
      name: 'buildah: 502 bad gateway',
      tail: ['Error: writing blob: initiating layer upload to /v2/a/blobs/uploads/ in 127.0.0.1:5000: received unexpected HTTP status: 502 Bad Gateway'],
      transient: true,
    },
    {
      name: 'connection refused (registry restarting)',
      tail: ['Get "http://127.0.0.1:5000/v2/": dial tcp 127.0.0.1:5000: connect: connection refused'],
      transient: true,
    },
    { name: 'a timeout', tail: ['net/http: TLS handshake timeout'], transient: true },
    { name: 'an unexpected EOF', tail: ['error parsing HTTP 400 response body: unexpected end of JSON input: "" EOF'], transient: true },
    { name: 'docker: no credentials', tail: ['unauthorized: authentication required'], transient: false },
    {
      name: 'buildah: access denied wins over a status code in the same output',
      tail: ['received unexpected HTTP status: 503', 'denied: requested access to the resource is denied'],
      transient: false,
    },
    { name: 'a 403', tail: ['HTTP 403 Forbidden'], transient: false },
    { name: 'a broken manifest is not retried', tail: ['manifest invalid: manifest invalid'], transient: false },
    { name: 'no output at all', tail: [], transient: false },
  ];
  it.each(rows)('$name', ({ tail, transient }) => {
    expect(isTransientPushFailure(tail)).toBe(transient);
  });
});
