import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { extname, join } from 'node:path';

// The dashboard's static files (hand-written JS, CSS, icon) are read once into memory and served
// under a content hash, so a browser caches them for a year and still sees a new release at once.

export interface Asset {
  name: string;
  body: Buffer;
  type: string;
  /** First 12 hex of the content's sha256: the `?v=` in URLs and the ETag. */
  hash: string;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Where the files are: next to this module when run from source, or back in `src/` when run
 * from the compiled `build/` tree (tsc copies no non-TypeScript files).
 */
function assetDirectory(): string {
  const candidates = [new URL('./assets/', import.meta.url), new URL('../../../../src/service/dashboard/assets/', import.meta.url)].map((u) =>
    fileURLToPath(u),
  );
  const found = candidates.find((dir) => existsSync(join(dir, 'app.js')));
  if (!found) throw new Error(`dashboard assets not found; looked in ${candidates.join(', ')}`);
  return found;
}

export function loadAssets(): Map<string, Asset> {
  const dir = assetDirectory();
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type) continue;
    const body = readFileSync(join(dir, name));
    const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
    assets.set(name, { name, body, type, hash });
  }
  return assets;
}

/** `/assets/app.js?v=<hash>`: the URL pages use, changing whenever the file does. */
export function assetUrl(assets: Map<string, Asset>, name: string): string {
  const asset = assets.get(name);
  if (!asset) throw new Error(`no dashboard asset ${name}`);
  return `/assets/${encodeURIComponent(name)}?v=${asset.hash}`;
}
