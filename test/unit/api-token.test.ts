import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Secret } from '../../src/core/secret.js';
import { resolveApiToken } from '../../src/service/api-token.js';

// The API token a `serve` uses: the configured one, or one generated on the first start and kept
// in <dataDir>/api-token (mode 0600) so every later start, and every process sharing the data
// directory, uses the same. What a user sees: the token printed once, and the file.

const root = mkdtempSync(join(tmpdir(), 'autobuild-api-token-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const dataDir = () => join(root, `data-${++dirs}`);

const mode = (file: string) => statSync(file).mode & 0o777;

describe('a configured token is used as it is and nothing is written', () => {
  it.each([
    { name: 'apiToken from autobuild.yml', token: 'configured-token-0123456789' },
    { name: 'a token with spaces kept as written', token: ' spaced token 0123456789 ' },
  ])('$name', ({ token }) => {
    const dir = dataDir();
    const source = resolveApiToken(new Secret(token), dir);
    expect(source.token.reveal()).toBe(token);
    expect(source.generated).toBe(false);
    expect(source.file).toBeUndefined();
    expect(existsSync(join(dir, 'api-token'))).toBe(false);
  });
});

describe('without one, a token is generated once and kept', () => {
  it.each([
    { name: 'no apiToken', configured: undefined },
    { name: 'an empty apiToken (an unset ${VAR:-})', configured: new Secret('') },
  ])('$name: a new token, printed this once, in <dataDir>/api-token with mode 0600', ({ configured }) => {
    const dir = dataDir();
    const first = resolveApiToken(configured, dir);
    expect(first.generated).toBe(true);
    expect(first.file).toBe(join(dir, 'api-token'));
    // 32 random bytes, base64url: 43 characters a URL or header carries as they are.
    expect(first.token.reveal()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(readFileSync(first.file!, 'utf8')).toBe(`${first.token.reveal()}\n`);
    expect(mode(first.file!)).toBe(0o600);
  });

  it('a second start reads the same token and does not print it again', () => {
    const dir = dataDir();
    const first = resolveApiToken(undefined, dir);
    const second = resolveApiToken(undefined, dir);
    expect(second.token.reveal()).toBe(first.token.reveal());
    expect(second.generated).toBe(false);
    expect(second.file).toBe(first.file);
  });

  it('two data directories get two different tokens', () => {
    expect(resolveApiToken(undefined, dataDir()).token.reveal()).not.toBe(resolveApiToken(undefined, dataDir()).token.reveal());
  });

  it('a configured token wins over a kept one, and the kept file stays', () => {
    const dir = dataDir();
    const kept = resolveApiToken(undefined, dir);
    const source = resolveApiToken(new Secret('configured-token-0123456789'), dir);
    expect(source.token.reveal()).toBe('configured-token-0123456789');
    expect(readFileSync(kept.file!, 'utf8').trim()).toBe(kept.token.reveal());
  });

  it.each([
    {
      name: 'a token file written by hand (no newline) is read as it is',
      content: 'hand-written-token-0123',
      token: 'hand-written-token-0123',
      generated: false,
    },
    { name: 'surrounding whitespace is trimmed', content: '  padded-token-0123 \r\n', token: 'padded-token-0123', generated: false },
    { name: 'an empty file is replaced by a new token', content: '', token: undefined, generated: true },
    { name: 'a file of blank lines is replaced by a new token', content: '\n \n', token: undefined, generated: true },
  ])('$name', ({ content, token, generated }) => {
    const dir = dataDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'api-token'), content);
    const source = resolveApiToken(undefined, dir);
    expect(source.generated).toBe(generated);
    if (token !== undefined) expect(source.token.reveal()).toBe(token);
    else expect(readFileSync(join(dir, 'api-token'), 'utf8')).toBe(`${source.token.reveal()}\n`);
  });

  it('a replaced file is made 0600 even if it was world-readable', () => {
    const dir = dataDir();
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'api-token');
    writeFileSync(file, '');
    chmodSync(file, 0o644);
    resolveApiToken(undefined, dir);
    expect(mode(file)).toBe(0o600);
  });

  it('a data directory that does not exist yet is created', () => {
    const dir = join(dataDir(), 'nested', 'deeper');
    const source = resolveApiToken(undefined, dir);
    expect(existsSync(source.file!)).toBe(true);
  });

  it('the token prints as *** wherever it is logged', () => {
    const source = resolveApiToken(undefined, dataDir());
    const shown = `${source.token} ${JSON.stringify(source)} ${inspect(source)}`;
    expect(shown).not.toContain(source.token.reveal());
  });
});
