import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Secret } from '../../core/secret.js';
import { sameSecret, TOKEN_COOKIE } from '../auth.js';

// The dashboard's sign-in: the browser holds the API token in an HttpOnly, SameSite=Strict cookie
// so page scripts never see it and other sites cannot make the browser send it.

// The same cookie the API accepts (auth.ts), so the page's fetches are signed in too.
export const SESSION_COOKIE = TOKEN_COOKIE;

/** Constant-time comparison of a presented token with the configured one (auth.ts). */
export function tokenMatches(presented: string | undefined, apiToken: Secret): boolean {
  return presented !== undefined && presented.length > 0 && sameSecret(presented, apiToken);
}

/** The value of one cookie from the request's Cookie header, URL-decoded. */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return undefined;
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
  return match?.[1]?.trim();
}

/** The token the request shows (cookie or Bearer), right or wrong; undefined when it shows none. */
export function presentedToken(request: FastifyRequest): string | undefined {
  const cookie = readCookie(request, SESSION_COOKIE);
  return cookie !== undefined && cookie !== '' ? cookie : bearer(request);
}

/** Signed in by the session cookie or, for scripts and curl, an `Authorization: Bearer` header. */
export function isSignedIn(request: FastifyRequest, apiToken: Secret): boolean {
  return tokenMatches(readCookie(request, SESSION_COOKIE), apiToken) || tokenMatches(bearer(request), apiToken);
}

/**
 * Whether a state-changing request comes from this site. Browsers send `Origin` on every POST;
 * when it is present it must name the host the request was sent to. A missing Origin (curl,
 * very old browsers) is allowed: without the cookie such a request cannot do anything anyway.
 */
export function isSameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (origin === 'null') return false;
  try {
    // Host only, not scheme: behind a TLS-terminating proxy the request itself arrives as http.
    return new URL(origin).host.toLowerCase() === String(request.headers.host ?? '').toLowerCase();
  } catch {
    return false;
  }
}

function cookieAttributes(request: FastifyRequest): string {
  // Secure only over https: on plain http (a LAN box, a test) a Secure cookie would be dropped.
  return `HttpOnly; SameSite=Strict; Path=/${request.protocol === 'https' ? '; Secure' : ''}`;
}

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string): void {
  reply.header('set-cookie', `${SESSION_COOKIE}=${encodeURIComponent(token)}; ${cookieAttributes(request)}`);
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('set-cookie', `${SESSION_COOKIE}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; ${cookieAttributes(request)}`);
}
