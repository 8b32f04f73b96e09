import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Secret } from '../../core/secret.js';
import { GuessThrottle } from '../guess-throttle.js';
import { decideAccess, credentialOf, sameSecret, type Access, type RequestFacts } from './access-rule.js';
import type { Sessions } from './sessions.js';

// The authentication rule (access-rule.ts) applied to fastify requests: the session looked up in
// Redis, wrong tokens counted against the client's address (guess-throttle.ts), the session
// cookie set at sign-in and cleared at sign-out. /api/* and the dashboard both come here.

const SESSION_COOKIE = 'autobuild_session';
/** Before sessions, the cookie held the API token itself: removed at sign-in and sign-out. */
const OLD_TOKEN_COOKIE = 'autobuild_token';

export interface AuthOptions {
  apiToken: Secret;
  sessions: Sessions;
  /** The configured public address (server.publicUrl): an https one makes the cookie Secure (`secureCookie`). */
  publicUrl?: string;
}

interface AuthState extends AuthOptions {
  guesses: GuessThrottle;
}

declare module 'fastify' {
  interface FastifyInstance {
    autobuildAuth: AuthState;
  }
}

/** Cookie parsing for every route, and the token, sessions and throttle for `authenticate`. */
export async function installAuth(app: FastifyInstance, opts: AuthOptions): Promise<void> {
  await app.register(fastifyCookie);
  app.decorate('autobuildAuth', { ...opts, guesses: new GuessThrottle() });
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function requestFacts(request: FastifyRequest): RequestFacts {
  return {
    method: request.method,
    authorization: header(request, 'authorization'),
    sessionCookie: request.cookies[SESSION_COOKIE],
    secFetchSite: header(request, 'sec-fetch-site'),
    origin: header(request, 'origin'),
    host: header(request, 'host'),
  };
}

/**
 * Answers 429 when the client's address sent too many wrong tokens lately (guess-throttle.ts);
 * true when it did.
 */
export function refuseGuesser(request: FastifyRequest, reply: FastifyReply, html = false): boolean {
  const wait = request.server.autobuildAuth.guesses.blocked(request.ip);
  if (wait === undefined) return false;
  const message = `too many wrong tokens from this address; try again in ${wait} s`;
  void reply.code(429).header('retry-after', String(wait));
  if (html) void reply.type('text/plain; charset=utf-8').send(`${message}\n`);
  else void reply.send({ error: message });
  return true;
}

/** Counts a wrong token against the client's address. */
export function countWrongToken(request: FastifyRequest): void {
  request.server.autobuildAuth.guesses.wrong(request.ip);
}

/**
 * Whether the request may in, by the rule. A wrong Bearer token counts as a guess; a session
 * that is gone does not (32 random bytes are not guessed, and an expired cookie is no attack).
 * Throws when Redis cannot be asked about a session.
 */
export async function authenticate(request: FastifyRequest): Promise<Access> {
  const { apiToken, sessions } = request.server.autobuildAuth;
  const facts = requestFacts(request);
  const credential = credentialOf(facts);
  const session = credential.kind === 'session' ? await sessions.state(credential.id) : undefined;
  const access = decideAccess(facts, apiToken, session);
  if (!access.allowed && access.why === 'wrong-token' && credential.kind === 'bearer' && credential.token !== '') countWrongToken(request);
  return access;
}

/**
 * Whether the session cookie gets `Secure`: when the request came over TLS, or was sent to the
 * host of an https `publicUrl` (TLS ended at a proxy). Only for requests to that host: the same
 * service reached directly over http (127.0.0.1:8080) would never get a Secure cookie back, and
 * signing in would loop. X-Forwarded-Proto is not read: without a proxy anyone can send it.
 */
export function secureCookie(tls: boolean, host: string | undefined, publicUrl: string | undefined): boolean {
  if (tls) return true;
  if (!publicUrl || !host) return false;
  try {
    const url = new URL(publicUrl);
    return url.protocol === 'https:' && url.host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}

function cookieOptions(request: FastifyRequest, maxAge?: number) {
  // request.protocol is https only for TLS on this very socket: the app sets no trustProxy.
  const secure = secureCookie(request.protocol === 'https', header(request, 'host'), request.server.autobuildAuth.publicUrl);
  return { path: '/', httpOnly: true, sameSite: 'strict' as const, secure, ...(maxAge === undefined ? {} : { maxAge }) };
}

/**
 * Signs in with the API token: a new session and its cookie. False (and one guess counted) when
 * the token is wrong.
 */
export async function signIn(request: FastifyRequest, reply: FastifyReply, token: string | undefined): Promise<boolean> {
  const { apiToken, sessions } = request.server.autobuildAuth;
  if (token === undefined || apiToken.empty || !sameSecret(token, apiToken)) {
    countWrongToken(request);
    return false;
  }
  const id = await sessions.create();
  reply.setCookie(SESSION_COOKIE, id, cookieOptions(request, sessions.maxSeconds));
  if (request.cookies[OLD_TOKEN_COOKIE] !== undefined) reply.clearCookie(OLD_TOKEN_COOKIE, cookieOptions(request));
  return true;
}

/** Signs out: the session is deleted in Redis (its cookie stops working everywhere) and the cookie cleared. */
export async function signOut(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const id = request.cookies[SESSION_COOKIE];
  if (id) await request.server.autobuildAuth.sessions.revoke(id);
  reply.clearCookie(SESSION_COOKIE, cookieOptions(request));
  if (request.cookies[OLD_TOKEN_COOKIE] !== undefined) reply.clearCookie(OLD_TOKEN_COOKIE, cookieOptions(request));
}
