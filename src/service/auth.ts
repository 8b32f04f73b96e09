import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { FastifyReply } from 'fastify';
import type { Secret } from '../core/secret.js';
import { GuessThrottle } from './guess-throttle.js';

// Who may use /api/* and the dashboard: whoever shows the API token, as `Authorization: Bearer`
// or as the `autobuild_token` cookie the dashboard's login form sets. A cookie rides along on
// cross-site requests too, so a state-changing request carried by the cookie must come from a
// page of this very host.

export const TOKEN_COOKIE = 'autobuild_token';

declare module 'fastify' {
  interface FastifyInstance {
    autobuildApiToken: Secret;
    autobuildGuesses: GuessThrottle;
  }
}

/** Makes the token known to `checkApiToken` for this server and every plugin inside it. */
export function installApiToken(app: FastifyInstance, token: Secret): void {
  app.decorate('autobuildApiToken', token);
  app.decorate('autobuildGuesses', new GuessThrottle());
}

/**
 * Answers 429 when the client's address sent too many wrong tokens lately (guess-throttle.ts);
 * true when it did.
 */
export function refuseGuesser(request: FastifyRequest, reply: FastifyReply, html = false): boolean {
  const wait = request.server.autobuildGuesses.blocked(request.ip);
  if (wait === undefined) return false;
  const message = `too many wrong tokens from this address; try again in ${wait} s`;
  void reply.code(429).header('retry-after', String(wait));
  if (html) void reply.type('text/plain; charset=utf-8').send(`${message}\n`);
  else void reply.send({ error: message });
  return true;
}

/** Counts a wrong token against the client's address. */
export function countWrongToken(request: FastifyRequest): void {
  request.server.autobuildGuesses.wrong(request.ip);
}

/** Constant-time comparison; hashing first makes the lengths equal. */
export function sameSecret(given: string, expected: Secret | string): boolean {
  const want = typeof expected === 'string' ? expected : expected.reveal();
  if (want.length === 0) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(want).digest();
  return timingSafeEqual(a, b);
}

function cookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Whether a browser says this request comes from a page served by this same host. */
function sameOrigin(request: FastifyRequest): boolean {
  if (request.headers['sec-fetch-site'] === 'same-origin') return true;
  const origin = request.headers.origin;
  const host = request.headers.host;
  if (!origin || !host) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** `wrong`: a token was shown and it is not the API token (a guess, for the throttle). */
export type TokenVerdict = 'ok' | 'missing' | 'wrong' | 'cross-site';

export function apiTokenVerdict(request: FastifyRequest): TokenVerdict {
  const token = request.server.autobuildApiToken;
  if (!token || token.empty) return 'missing';
  // A Bearer header decides alone. Any other scheme (a Basic-auth proxy in front of the
  // dashboard, say) is not ours to judge, so the cookie still counts then.
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  if (bearer) return sameSecret(bearer[1]!, token) ? 'ok' : 'wrong';
  if (/^Bearer\b/i.test(request.headers.authorization ?? '')) return 'missing';
  const fromCookie = cookie(request, TOKEN_COOKIE);
  if (fromCookie === undefined) return 'missing';
  if (!sameSecret(fromCookie, token)) return 'wrong';
  return SAFE_METHODS.has(request.method) || sameOrigin(request) ? 'ok' : 'cross-site';
}

export function checkApiToken(request: FastifyRequest): boolean {
  return apiTokenVerdict(request) === 'ok';
}
