import { createHash, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../../core/secret.js';

// Who may use /api/* and the dashboard (the trigger aside: its token is in its path). The rule,
// the only one; every route asks `decideAccess`:
//
// 1. An `Authorization: Bearer` header decides alone: the API token lets the request in,
//    anything else keeps it out, whatever cookie comes along.
// 2. Otherwise the session cookie the dashboard's sign-in sets. Its session must still live in
//    Redis (not expired, not signed out). A safe method (GET, HEAD, OPTIONS) is then let in. An
//    unsafe one (POST, PUT, PATCH, DELETE, ...) also needs a same-origin proof, since browsers
//    attach the cookie to requests other sites make them send: `Sec-Fetch-Site: same-origin`,
//    or, from a browser that does not send Sec-Fetch-Site, an `Origin` naming the very host the
//    request was sent to. Neither header: refused (only browsers hold the cookie, and browsers
//    send them; a script uses the Bearer header).
// 3. Nothing else lets in. Another Authorization scheme (Basic, from a proxy guarding the
//    dashboard) is not ours: it neither lets in nor overrides the cookie.
//
// This module is pure (headers in, verdict out); auth/http-auth.ts looks the session up and
// applies the verdict, auth/sessions.ts keeps the sessions.

/** What the rule reads from a request. */
export interface RequestFacts {
  method: string;
  authorization?: string | undefined;
  /** The session cookie's value, when the request carries one. */
  sessionCookie?: string | undefined;
  secFetchSite?: string | undefined;
  origin?: string | undefined;
  /** The Host header: where the browser sent the request. */
  host?: string | undefined;
}

type Credential =
  /** `token` is '' for a Bearer header with no token in it. */
  { kind: 'bearer'; token: string } | { kind: 'session'; id: string } | { kind: 'none' };

/** A session cookie's session: `gone` when it expired, was signed out, or never existed. */
export type SessionState = 'live' | 'gone';

export type Access =
  | { allowed: true; by: 'bearer' | 'session' }
  /**
   * `wrong-token`: a Bearer header that is not the API token. `no-session`: the cookie's session
   * is gone. `cross-site`: a live session, but an unsafe method without a same-origin proof.
   */
  | { allowed: false; why: 'no-credential' | 'wrong-token' | 'no-session' | 'cross-site' };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Constant-time comparison; hashing first makes the lengths equal. */
export function sameSecret(given: string, expected: Secret | string): boolean {
  const want = typeof expected === 'string' ? expected : expected.reveal();
  if (want.length === 0 || given.length === 0) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(want).digest();
  return timingSafeEqual(a, b);
}

/** The credential a request shows, by rules 1-3: a Bearer header first, then the cookie. */
export function credentialOf(facts: RequestFacts): Credential {
  const authorization = facts.authorization?.trim() ?? '';
  const bearer = /^Bearer(?:\s+(.*))?$/i.exec(authorization);
  if (bearer) {
    const token = (bearer[1] ?? '').trim();
    // "Bearer a b" is no token of ours either; it is refused like a wrong one.
    return { kind: 'bearer', token: /\s/.test(token) ? '' : token };
  }
  if (facts.sessionCookie) return { kind: 'session', id: facts.sessionCookie };
  return { kind: 'none' };
}

/**
 * Whether a browser says the request comes from a page of this same origin: `same-origin`,
 * `cross-site` (it says otherwise), or `none` (no Sec-Fetch-Site and no Origin: not a browser,
 * or a very old one).
 */
function originProof(facts: RequestFacts): 'same-origin' | 'cross-site' | 'none' {
  // Sec-Fetch-Site is set by the browser itself (page scripts cannot), so it is believed first.
  if (facts.secFetchSite !== undefined) return facts.secFetchSite === 'same-origin' ? 'same-origin' : 'cross-site';
  if (facts.origin === undefined) return 'none';
  const host = facts.host?.toLowerCase();
  if (!host || facts.origin === 'null') return 'cross-site';
  try {
    // The host (and port) only, not the scheme: behind a TLS-terminating proxy the page is
    // https while the request reaches autobuild as http.
    return new URL(facts.origin).host.toLowerCase() === host ? 'same-origin' : 'cross-site';
  } catch {
    return 'cross-site';
  }
}

/**
 * The rule. `session` is what the session store says of the cookie's session; it is read only
 * when the credential is a session cookie (see `credentialOf`).
 */
export function decideAccess(facts: RequestFacts, apiToken: Secret, session: SessionState = 'gone'): Access {
  const credential = credentialOf(facts);
  switch (credential.kind) {
    case 'bearer':
      return !apiToken.empty && sameSecret(credential.token, apiToken) ? { allowed: true, by: 'bearer' } : { allowed: false, why: 'wrong-token' };
    case 'session':
      if (session !== 'live') return { allowed: false, why: 'no-session' };
      if (SAFE_METHODS.has(facts.method.toUpperCase()) || originProof(facts) === 'same-origin') return { allowed: true, by: 'session' };
      return { allowed: false, why: 'cross-site' };
    case 'none':
      return { allowed: false, why: 'no-credential' };
  }
}

/**
 * The dashboard's own form posts (sign-in, sign-out) need the same proof as a cookie's unsafe
 * request: a sign-in or sign-out another site makes the browser send is refused.
 */
export function formPostAllowed(facts: RequestFacts): boolean {
  return originProof(facts) === 'same-origin';
}
