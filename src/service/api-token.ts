import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Secret } from '../core/secret.js';

// The API token when autobuild.yml sets none: generated once with the system's CSPRNG and kept
// in `<dataDir>/api-token` (mode 0600), so it survives restarts and `serve` processes sharing the
// data directory agree on it.

export interface ApiTokenSource {
  token: Secret;
  /** Where it is kept; undefined when configured. */
  file?: string;
  /** True only on the run that created it: the one time it is printed. */
  generated: boolean;
}

export function resolveApiToken(configured: Secret | undefined, dataDir: string): ApiTokenSource {
  if (configured && !configured.empty) return { token: configured, generated: false };
  const file = join(dataDir, 'api-token');
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8').trim();
    if (text.length > 0) return { token: new Secret(text), file, generated: false };
  }
  mkdirSync(dirname(file), { recursive: true });
  const text = randomBytes(32).toString('base64url');
  writeFileSync(file, `${text}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { token: new Secret(text), file, generated: true };
}
