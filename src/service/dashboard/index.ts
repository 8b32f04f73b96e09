import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formPostAllowed } from '../auth/access-rule.js';
import { authenticate, refuseGuesser, requestFacts, signIn, signOut } from '../auth/http-auth.js';
import { loadAssets } from './assets.js';
import { appPage, signInPage } from './pages.js';

// The dashboard: a sign-in form, one HTML shell and the static files of a small single-page app
// that reads the service's JSON API (/api/*) with the session cookie. No data is rendered here.
// Who is signed in is decided by the same rule as for the API (auth/access-rule.ts).

// Every page only loads its own files and talks to its own origin; nothing may frame it.
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  // Not no-referrer: with it browsers send `Origin: null` on the form POSTs, which the
  // same-origin check must refuse. same-origin still tells other sites nothing.
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

const FORM_TYPE = 'application/x-www-form-urlencoded';

/**
 * Where to go after signing in: a page of this app (`#/builds/<id>`) or the start. Anything else
 * is dropped, so the form cannot be used to send someone to another site.
 */
function landing(next: string | undefined): string {
  return next && /^#\/[\w.~%/?=&-]{0,500}$/.test(next) ? `/${next}` : '/';
}

function formField(body: unknown, name: string): string | undefined {
  if (typeof body === 'string') return new URLSearchParams(body).get(name) ?? undefined;
  if (body && typeof body === 'object') {
    const value = (body as Record<string, unknown>)[name];
    if (typeof value === 'string') return value;
  }
  return undefined;
}

function refuseCrossSite(request: FastifyRequest, reply: FastifyReply): boolean {
  if (formPostAllowed(requestFacts(request))) return false;
  void reply.code(403).type('text/plain; charset=utf-8').send('cross-site request refused: submit the form from the dashboard itself\n');
  return true;
}

function redisDown(reply: FastifyReply): FastifyReply {
  return reply.code(503).type('text/plain; charset=utf-8').send('Redis is unavailable, so sessions cannot be checked; try again later\n');
}

export async function registerDashboard(app: FastifyInstance): Promise<void> {
  const assets = loadAssets();

  // Its own encapsulated scope, so the form parser below does not change how the API parses bodies.
  await app.register(async (scope) => {
    if (!scope.hasContentTypeParser(FORM_TYPE)) {
      scope.addContentTypeParser(FORM_TYPE, { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(String(body))));
      });
    }

    scope.get('/', async (request, reply) => {
      if (refuseGuesser(request, reply, true)) return reply;
      let signedIn: boolean;
      try {
        signedIn = (await authenticate(request)).allowed;
      } catch {
        return redisDown(reply);
      }
      const html = signedIn ? appPage(assets) : signInPage(assets);
      return reply.headers(PAGE_HEADERS).send(html);
    });

    scope.post('/login', async (request, reply) => {
      if (refuseCrossSite(request, reply)) return reply;
      if (refuseGuesser(request, reply, true)) return reply;
      const token = formField(request.body, 'token')?.trim();
      const next = formField(request.body, 'next');
      let signedIn: boolean;
      try {
        signedIn = await signIn(request, reply, token);
      } catch {
        return redisDown(reply);
      }
      if (!signedIn)
        return reply
          .code(401)
          .headers(PAGE_HEADERS)
          .send(signInPage(assets, 'wrong token', landing(next).slice(1)));
      // 303: the browser follows with a GET, so reloading the page does not re-send the token.
      return reply.code(303).header('location', landing(next)).send();
    });

    scope.post('/logout', async (request, reply) => {
      if (refuseCrossSite(request, reply)) return reply;
      try {
        await signOut(request, reply);
      } catch {
        // The cookie stays: the session still lives in Redis, and signing out again must be able to end it.
        return redisDown(reply);
      }
      return reply.code(303).header('location', '/').send();
    });

    scope.get<{ Params: { '*': string }; Querystring: { v?: string } }>('/assets/*', async (request, reply) => {
      const asset = assets.get(request.params['*']);
      if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send('no such asset\n');
      const etag = `"${asset.hash}"`;
      // A URL carrying the current hash never changes: cache it for good. Anything else revalidates.
      reply.headers({
        'content-type': asset.type,
        etag,
        'x-content-type-options': 'nosniff',
        'cache-control': request.query.v === asset.hash ? 'public, max-age=31536000, immutable' : 'no-cache',
      });
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.send(asset.body);
    });
  });
}
