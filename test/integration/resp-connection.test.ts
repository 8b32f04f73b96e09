// The webhook hot path's bare Redis connection against a real redis-server: replies of every
// type, replies split across reads, error replies, and failing fast while Redis is away.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCommand, parseReply, RedisReplyError, respConnectionFor, type RespConnection } from '../../src/service/resp-connection.js';
import { startRedis, type TestRedis } from '../support/redis.js';

let redis: TestRedis;
let conn: RespConnection;

beforeAll(async () => {
  redis = await startRedis();
  conn = respConnectionFor(redis.url)!;
});

afterAll(async () => {
  conn?.close();
  await redis?.dispose();
});

describe('RESP encoding and parsing', () => {
  it('encodes arguments by byte length, so multi-byte text survives', () => {
    expect(encodeCommand(['SET', 'k', 'é'])).toBe('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n');
  });

  const rows: { name: string; bytes: string; value: unknown; error?: string }[] = [
    { name: 'a simple string', bytes: '+OK\r\n', value: 'OK' },
    { name: 'an integer', bytes: ':42\r\n', value: 42 },
    { name: 'a bulk string', bytes: '$5\r\nhello\r\n', value: 'hello' },
    { name: 'a nil', bytes: '$-1\r\n', value: null },
    { name: 'an array', bytes: '*2\r\n$1\r\na\r\n:1\r\n', value: ['a', 1] },
    { name: 'an error', bytes: '-NOSCRIPT No matching script\r\n', value: null, error: 'NOSCRIPT No matching script' },
  ];
  for (const row of rows) {
    it(`parses ${row.name}, and waits for the rest when it is cut anywhere`, () => {
      const buf = Buffer.from(row.bytes);
      const whole = parseReply(buf, 0)!;
      expect(whole.value).toEqual(row.value);
      expect(whole.error).toBe(row.error);
      expect(whole.next).toBe(buf.length);
      for (let cut = 0; cut < buf.length; cut++) expect(parseReply(buf.subarray(0, cut), 0)).toBeUndefined();
    });
  }
});

describe('RespConnection', () => {
  it('answers commands in order, with scripts and large replies', async () => {
    const big = 'x'.repeat(200_000);
    const [set, get, evalled, n] = await Promise.all([
      conn.send(['SET', 'resp-test', big]),
      conn.send(['GET', 'resp-test']),
      conn.send(['EVAL', 'return {KEYS[1], ARGV[1], 7}', 1, 'k', 'v']),
      conn.send(['INCR', 'resp-counter']),
    ]);
    expect(set).toBe('OK');
    expect(get).toBe(big);
    expect(evalled).toEqual(['k', 'v', 7]);
    expect(n).toBe(1);
  });

  it('an error reply rejects only its own command', async () => {
    const bad = conn.send(['EVALSHA', '0'.repeat(40), 0]);
    const good = conn.send(['PING']);
    await expect(bad).rejects.toBeInstanceOf(RedisReplyError);
    expect(await good).toBe('PONG');
  });

  it('fails fast while Redis is away and connects again once it is back', async () => {
    await redis.stop();
    const t0 = Date.now();
    await expect(conn.send(['PING'])).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(3_000);
    await redis.start();
    let answer: unknown;
    for (let i = 0; i < 50 && answer !== 'PONG'; i++) {
      answer = await conn.send(['PING']).catch(() => undefined);
      if (answer !== 'PONG') await new Promise((r) => setTimeout(r, 100));
    }
    expect(answer).toBe('PONG');
  });

  it('serves only plain redis:// URLs; others stay with ioredis', () => {
    expect(respConnectionFor('rediss://example.com:6380')).toBeUndefined();
    expect(respConnectionFor('redis+unix:///tmp/redis.sock')).toBeUndefined();
    expect(respConnectionFor('redis://localhost/notanumber')).toBeUndefined();
  });
});
