// Secrets in log lines: whatever form a tool or a hook prints a secret in, the log shows ***.
import { describe, expect, it } from 'vitest';
import { maskSecrets, Secret } from '../../src/core/secret.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const b64url = (s: string) => Buffer.from(s, 'utf8').toString('base64url');

const password = 's3cret-Pa55/word+x';
const token = 'ghp_16C7e42F292c6912E7710c838347Ae178B4a';
const spaced = 'correct horse battery staple';
const quoted = 'a"b\\c-d$e';

describe('maskSecrets', () => {
  const rows: { name: string; secret: string; line: string; expected: string }[] = [
    { name: 'the value itself', secret: password, line: `password=${password}`, expected: 'password=***' },
    { name: 'every occurrence', secret: token, line: `${token} and ${token}`, expected: '*** and ***' },
    { name: 'base64 of the value', secret: password, line: `secret: ${b64(password)}`, expected: 'secret: ***' },
    { name: 'base64url of the value', secret: password, line: `secret: ${b64url(password)}`, expected: 'secret: ***' },
    { name: 'docker auth: base64 of user:password', secret: password, line: `"auth": "${b64(`bot:${password}`)}"`, expected: '"auth": "***"' },
    { name: 'base64 of user:password whatever the user name length (offset 1)', secret: password, line: b64(`ab:${password}`), expected: '***' },
    { name: 'base64 of user:password whatever the user name length (offset 2)', secret: password, line: b64(`abcd:${password}`), expected: '***' },
    {
      name: 'base64 of a longer text holding the token (HTTP basic auth)',
      secret: token,
      line: `Authorization: Basic ${b64(`x-access-token:${token}`)}`,
      expected: 'Authorization: Basic ***',
    },
    {
      name: 'base64 of a text with more after the secret',
      secret: password,
      line: `cfg ${b64(`{"p":"${password}","more":true}`)} end`,
      expected: 'cfg *** end',
    },
    { name: 'a 4-character secret encoded alone', secret: 'abcd', line: `x ${b64('abcd')} y`, expected: 'x *** y' },
    {
      name: 'URL-encoding where it differs from the value',
      secret: password,
      line: `https://bot:${encodeURIComponent(password)}@registry.example.com/v2/`,
      expected: 'https://bot:***@registry.example.com/v2/',
    },
    {
      name: 'form encoding of a value with spaces',
      secret: spaced,
      line: `body: user=bot&pass=${encodeURIComponent(spaced).replaceAll('%20', '+')}`,
      expected: 'body: user=bot&pass=***',
    },
    { name: 'percent-encoded spaces', secret: spaced, line: `q=${encodeURIComponent(spaced)}`, expected: 'q=***' },
    { name: 'JSON-escaped value', secret: quoted, line: JSON.stringify({ password: quoted }), expected: '{"password":"***"}' },
    {
      name: 'a line without the secret is left alone',
      secret: password,
      line: 'sha256:6113728f27ae82c7b1a177c8d03f9e96e0adf246 pushed /usr/local/bin',
      expected: 'sha256:6113728f27ae82c7b1a177c8d03f9e96e0adf246 pushed /usr/local/bin',
    },
    {
      name: 'base64 of something else is left alone',
      secret: password,
      line: `"auth": "${b64('bot:another-password')}"`,
      expected: `"auth": "${b64('bot:another-password')}"`,
    },
    { name: 'values under 4 characters are not masked (they would hit ordinary words)', secret: 'abc', line: 'abc abcdef', expected: 'abc abcdef' },
  ];
  it.each(rows)('$name', ({ secret, line, expected }) => {
    expect(maskSecrets(line, [new Secret(secret)])).toBe(expected);
  });

  it('masks every secret of several, given as Secret or text', () => {
    const line = `${password} ${b64(`u:${token}`)} ${encodeURIComponent(spaced)}`;
    expect(maskSecrets(line, [new Secret(password), token, undefined, new Secret(spaced)])).toBe('*** *** ***');
  });
});
