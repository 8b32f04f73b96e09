import { describe, expect, it } from 'vitest';
import { Secret } from '../../src/core/secret.js';
import { decideAccess, formPostAllowed, type Access, type RequestFacts, type SessionState } from '../../src/service/auth/access-rule.js';
import { secureCookie } from '../../src/service/auth/http-auth.js';

// The one authentication rule of /api/* and the dashboard (src/service/auth/access-rule.ts), one
// row per request a browser, a script or an attacker's page sends. `session` is what Redis says
// of the cookie's session.

const TOKEN = 'api-token-for-the-rule-0123456789';
const apiToken = new Secret(TOKEN);
const HOST = 'autobuild.example.com:8080';
const SESSION = 'x'.repeat(43);
const basic = `Basic ${Buffer.from(`admin:${'proxy-password'}`).toString('base64')}`;

const IN_BY_BEARER: Access = { allowed: true, by: 'bearer' };
const IN_BY_SESSION: Access = { allowed: true, by: 'session' };
const out = (why: Extract<Access, { allowed: false }>['why']): Access => ({ allowed: false, why });

const rows: { name: string; facts: Omit<RequestFacts, 'host'> & { host?: string }; session?: SessionState; expected: Access }[] = [
  // Rule 1: a Bearer header decides alone.
  { name: 'a script with the right Bearer token is let in', facts: { method: 'GET', authorization: `Bearer ${TOKEN}` }, expected: IN_BY_BEARER },
  { name: 'the scheme name is case-insensitive', facts: { method: 'POST', authorization: `bearer ${TOKEN}` }, expected: IN_BY_BEARER },
  { name: 'a wrong Bearer token is refused', facts: { method: 'GET', authorization: 'Bearer not-the-token' }, expected: out('wrong-token') },
  {
    name: 'the right token with something after it is refused',
    facts: { method: 'GET', authorization: `Bearer ${TOKEN} extra` },
    expected: out('wrong-token'),
  },
  { name: 'a Bearer header with no token is refused', facts: { method: 'GET', authorization: 'Bearer' }, expected: out('wrong-token') },
  {
    name: 'a wrong Bearer token is refused even with a live session cookie',
    facts: { method: 'GET', authorization: 'Bearer someone-elses-token', sessionCookie: SESSION },
    session: 'live',
    expected: out('wrong-token'),
  },
  {
    name: 'a right Bearer token lets a POST in without any origin proof, whatever cookie comes along',
    facts: { method: 'POST', authorization: `Bearer ${TOKEN}`, sessionCookie: 'stale' },
    session: 'gone',
    expected: IN_BY_BEARER,
  },
  // Rule 2: the session cookie.
  { name: 'a live session cookie lets a GET in', facts: { method: 'GET', sessionCookie: SESSION }, session: 'live', expected: IN_BY_SESSION },
  { name: 'a live session cookie lets a HEAD in', facts: { method: 'HEAD', sessionCookie: SESSION }, session: 'live', expected: IN_BY_SESSION },
  { name: 'an expired or signed-out session is refused', facts: { method: 'GET', sessionCookie: SESSION }, session: 'gone', expected: out('no-session') },
  {
    name: "an expired session is refused even from the dashboard's own page",
    facts: { method: 'POST', sessionCookie: SESSION, secFetchSite: 'same-origin', origin: `http://${HOST}` },
    session: 'gone',
    expected: out('no-session'),
  },
  {
    name: "a cookie POST from the dashboard's page (Sec-Fetch-Site: same-origin) is let in",
    facts: { method: 'POST', sessionCookie: SESSION, secFetchSite: 'same-origin' },
    session: 'live',
    expected: IN_BY_SESSION,
  },
  {
    name: 'a cookie POST from an older browser with an Origin naming this host is let in',
    facts: { method: 'POST', sessionCookie: SESSION, origin: `http://${HOST}` },
    session: 'live',
    expected: IN_BY_SESSION,
  },
  {
    name: 'an https Origin matches behind a TLS-terminating proxy (host compared, not scheme)',
    facts: { method: 'DELETE', sessionCookie: SESSION, origin: `https://${HOST.toUpperCase()}` },
    session: 'live',
    expected: IN_BY_SESSION,
  },
  {
    name: 'a cookie POST with neither Origin nor Sec-Fetch-Site is refused',
    facts: { method: 'POST', sessionCookie: SESSION },
    session: 'live',
    expected: out('cross-site'),
  },
  {
    name: 'a cookie POST from another site (Sec-Fetch-Site: cross-site) is refused',
    facts: { method: 'POST', sessionCookie: SESSION, secFetchSite: 'cross-site', origin: 'https://evil.example' },
    session: 'live',
    expected: out('cross-site'),
  },
  {
    name: 'a cookie POST from a sibling subdomain (Sec-Fetch-Site: same-site) is refused, whatever its Origin says',
    facts: { method: 'POST', sessionCookie: SESSION, secFetchSite: 'same-site', origin: `http://${HOST}` },
    session: 'live',
    expected: out('cross-site'),
  },
  {
    name: 'a cookie POST with a foreign Origin is refused',
    facts: { method: 'POST', sessionCookie: SESSION, origin: 'https://evil.example' },
    session: 'live',
    expected: out('cross-site'),
  },
  {
    name: 'a cookie POST from another port of the same host is refused',
    facts: { method: 'PUT', sessionCookie: SESSION, origin: 'http://autobuild.example.com:9999' },
    session: 'live',
    expected: out('cross-site'),
  },
  {
    name: 'a cookie POST with Origin: null (sandboxed frame) is refused',
    facts: { method: 'POST', sessionCookie: SESSION, origin: 'null' },
    session: 'live',
    expected: out('cross-site'),
  },
  {
    name: 'a cookie POST with an Origin that is not a URL is refused',
    facts: { method: 'PATCH', sessionCookie: SESSION, origin: 'not a url' },
    session: 'live',
    expected: out('cross-site'),
  },
  // Rule 3: another Authorization scheme is not ours.
  {
    name: 'behind a Basic-auth proxy, the session cookie still lets a GET in',
    facts: { method: 'GET', authorization: basic, sessionCookie: SESSION },
    session: 'live',
    expected: IN_BY_SESSION,
  },
  {
    name: "behind a Basic-auth proxy, a cookie POST from the dashboard's page is let in",
    facts: { method: 'POST', authorization: basic, sessionCookie: SESSION, secFetchSite: 'same-origin' },
    session: 'live',
    expected: IN_BY_SESSION,
  },
  { name: 'a Basic header alone lets nothing in', facts: { method: 'GET', authorization: basic }, expected: out('no-credential') },
  { name: 'nothing shown: refused', facts: { method: 'GET' }, expected: out('no-credential') },
  { name: 'an empty session cookie is no credential', facts: { method: 'GET', sessionCookie: '' }, expected: out('no-credential') },
  {
    name: 'the API token itself as the cookie is no session (the cookie is not the token)',
    facts: { method: 'GET', sessionCookie: TOKEN },
    session: 'gone',
    expected: out('no-session'),
  },
];

describe('who may use /api/* and the dashboard', () => {
  for (const row of rows) {
    it(row.name, () => {
      expect(decideAccess({ host: HOST, ...row.facts }, apiToken, row.session)).toEqual(row.expected);
    });
  }

  it('an empty configured API token lets no Bearer header in', () => {
    expect(decideAccess({ method: 'GET', authorization: 'Bearer ' }, new Secret(''))).toEqual(out('wrong-token'));
    expect(decideAccess({ method: 'GET', authorization: 'Bearer x' }, new Secret(''))).toEqual(out('wrong-token'));
  });
});

describe("the dashboard's sign-in and sign-out forms", () => {
  it.each([
    ['posted from the dashboard (Sec-Fetch-Site: same-origin)', { secFetchSite: 'same-origin' }, true],
    ['posted by an older browser with this host as Origin', { origin: `http://${HOST}` }, true],
    ['posted from another site', { origin: 'http://evil.example' }, false],
    ['posted with no Origin and no Sec-Fetch-Site (not from a browser page)', {}, false],
    ['posted from a page the browser says is cross-site', { secFetchSite: 'cross-site' }, false],
  ])('%s', (_name, headers, allowed) => {
    expect(formPostAllowed({ method: 'POST', host: HOST, ...headers })).toBe(allowed);
  });
});

describe('the session cookie is Secure', () => {
  it.each([
    ["over TLS on autobuild's own socket", true, 'autobuild.example.com', undefined, true],
    ['sent to the host of an https publicUrl (TLS ended at a proxy)', false, 'autobuild.example.com', 'https://autobuild.example.com/', true],
    ['host names compare case-insensitively', false, 'AutoBuild.example.com', 'https://autobuild.example.com', true],
    ['not on plain http with no publicUrl (a LAN box, a test)', false, '127.0.0.1:8080', undefined, false],
    ['not for the same service reached directly over http, beside its https publicUrl', false, '127.0.0.1:8080', 'https://autobuild.example.com', false],
    ['not for an http publicUrl', false, 'autobuild.example.com', 'http://autobuild.example.com', false],
    ['not without a Host header', false, undefined, 'https://autobuild.example.com', false],
  ])('%s', (_name, tls, host, publicUrl, secure) => {
    expect(secureCookie(tls, host, publicUrl)).toBe(secure);
  });
});
