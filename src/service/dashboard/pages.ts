import type { Asset } from './assets.js';
import { assetUrl } from './assets.js';

// The two HTML documents the server sends: the sign-in form (works without JavaScript) and the
// shell of the single-page app, which app.js fills from the JSON API.

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function head(assets: Map<string, Asset>, title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="${assetUrl(assets, 'icon.svg')}" type="image/svg+xml">
<link rel="stylesheet" href="${assetUrl(assets, 'app.css')}">
</head>`;
}

export function signInPage(assets: Map<string, Asset>, error?: string, next = ''): string {
  const message = error ? `<p class="notice notice-error" role="alert" id="signin-error">${escapeHtml(error)}</p>` : '';
  return `${head(assets, 'Sign in · autobuild')}
<body class="signin">
<main>
<h1>autobuild</h1>
<form method="post" action="/login" class="signin-form"${error ? ' aria-describedby="signin-error"' : ''}>
${message}
<input type="text" name="username" value="autobuild" autocomplete="username" hidden>
<input type="hidden" name="next" value="${escapeHtml(next)}">
<label for="token">API token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<p class="hint">The <code>apiToken</code> from <code>autobuild.yml</code>, or the one <code>autobuild start</code> printed.</p>
<button type="submit">Sign in</button>
</form>
</main>
<script type="module" src="${assetUrl(assets, 'signin.js')}"></script>
</body>
</html>
`;
}

/**
 * app.js imports its sibling modules by plain relative URL (no import map: the CSP allows no
 * inline script). Preloading them saves the round trip of discovering them one import at a time.
 */
function modulePreloads(assets: Map<string, Asset>): string {
  return [...assets.values()]
    .filter((a) => a.name.endsWith('.js') && a.name !== 'app.js' && a.name !== 'signin.js')
    .map((a) => `<link rel="modulepreload" href="/assets/${encodeURIComponent(a.name)}">`)
    .join('\n');
}

export function appPage(assets: Map<string, Asset>): string {
  return `${head(assets, 'autobuild')}
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<a class="brand" href="#/builds">autobuild</a>
<nav aria-label="Sections">
<ul>
<li><a href="#/builds" data-nav="builds">Builds</a></li>
<li><a href="#/images" data-nav="images">Images</a></li>
</ul>
</nav>
<section class="queue" aria-label="Queue health">
<h2 class="visually-hidden">Queue</h2>
<dl id="queue"><div><dt>Queue</dt><dd>…</dd></div></dl>
</section>
<form method="post" action="/logout" class="signout"><button type="submit">Sign out</button></form>
</header>
<main id="main" tabindex="-1">
<noscript><p class="notice">The dashboard needs JavaScript. The JSON API works without it: <code>GET /api/builds</code>.</p></noscript>
</main>
${modulePreloads(assets)}
<script type="module" src="${assetUrl(assets, 'app.js')}"></script>
</body>
</html>
`;
}
