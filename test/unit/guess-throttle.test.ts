import { describe, expect, it } from 'vitest';
import { GuessThrottle } from '../../src/service/guess-throttle.js';

// Wrong API/trigger tokens per client address. `blocked()` gives the seconds the API answers in
// its 429 (Retry-After); undefined lets the request in. The clock is passed in (ms).

const A = '203.0.113.7';
const B = '198.51.100.9';
const T0 = 1_700_000_000_000;

/** `count` wrong tokens from `address` at `at`. */
function wrong(throttle: GuessThrottle, address: string, count: number, at: number): void {
  for (let i = 0; i < count; i++) throttle.wrong(address, at);
}

type Row = { name: string; steps: [string, number, number][]; ask: [string, number]; wait: number | undefined };

describe('ten wrong tokens a minute, then 429 until the minute ends', () => {
  it.each<Row>([
    { name: 'an address that never sent a wrong token may try', steps: [], ask: [A, 0], wait: undefined },
    { name: '9 wrong tokens: still allowed', steps: [[A, 9, 0]], ask: [A, 0], wait: undefined },
    { name: '10 wrong tokens: wait 60 s', steps: [[A, 10, 0]], ask: [A, 0], wait: 60 },
    {
      name: '10 wrong tokens spread over the minute count together',
      steps: [
        [A, 5, 0],
        [A, 5, 50_000],
      ],
      ask: [A, 50_000],
      wait: 10,
    },
    { name: 'the wait counts down from the first wrong token, not the last', steps: [[A, 10, 0]], ask: [A, 45_500], wait: 15 },
    { name: 'part of a second left is a whole second to wait', steps: [[A, 10, 0]], ask: [A, 59_999], wait: 1 },
    { name: 'the minute over: allowed again', steps: [[A, 10, 0]], ask: [A, 60_000], wait: undefined },
    {
      name: 'more wrong tokens while blocked do not extend the block',
      steps: [
        [A, 10, 0],
        [A, 50, 30_000],
      ],
      ask: [A, 30_000],
      wait: 30,
    },
    { name: 'another address is not blocked by the first', steps: [[A, 10, 0]], ask: [B, 0], wait: undefined },
    {
      name: 'each address counts its own: 5 + 5 from two addresses block neither',
      steps: [
        [A, 5, 0],
        [B, 5, 0],
      ],
      ask: [A, 0],
      wait: undefined,
    },
    {
      name: '9 wrong in one minute and 9 in the next never block',
      steps: [
        [A, 9, 0],
        [A, 9, 60_000],
      ],
      ask: [A, 60_000],
      wait: undefined,
    },
    {
      name: 'a new minute starts at the first wrong token after the old one ended',
      steps: [
        [A, 9, 0],
        [A, 10, 61_000],
      ],
      ask: [A, 61_000],
      wait: 60,
    },
  ])('$name', ({ steps, ask, wait }) => {
    const throttle = new GuessThrottle();
    for (const [address, count, at] of steps) wrong(throttle, address, count, T0 + at);
    expect(throttle.blocked(ask[0], T0 + ask[1])).toBe(wait);
  });

  it('an IPv6 address is counted as written', () => {
    const throttle = new GuessThrottle();
    wrong(throttle, '2001:db8::1', 10, T0);
    expect(throttle.blocked('2001:db8::1', T0)).toBe(60);
    expect(throttle.blocked('2001:db8::2', T0)).toBeUndefined();
  });

  it('reads the real clock when none is given', () => {
    const throttle = new GuessThrottle();
    wrong(throttle, A, 10, Date.now());
    expect(throttle.blocked(A)).toBeGreaterThanOrEqual(59);
  });

  it('a limit and window given to the constructor are used', () => {
    const throttle = new GuessThrottle(3, 10_000);
    wrong(throttle, A, 3, T0);
    expect(throttle.blocked(A, T0)).toBe(10);
    expect(throttle.blocked(A, T0 + 10_000)).toBeUndefined();
  });
});

describe('memory stays bounded at 10,000 addresses', () => {
  const many = (throttle: GuessThrottle, count: number, at: number) => {
    for (let i = 0; i < count; i++) throttle.wrong(`10.0.${i >> 8}.${i & 255}`, at);
  };

  it('when full, finished windows are dropped first: a blocked address stays blocked', () => {
    const throttle = new GuessThrottle();
    many(throttle, 9_999, T0);
    wrong(throttle, A, 10, T0 + 30_000);
    throttle.wrong(B, T0 + 61_000);
    expect(throttle.blocked(A, T0 + 61_000)).toBe(29);
  });

  it('when full of live windows, the oldest address is forgotten', () => {
    const throttle = new GuessThrottle();
    wrong(throttle, A, 10, T0);
    many(throttle, 9_999, T0 + 1_000);
    expect(throttle.blocked(A, T0 + 2_000)).toBe(58);
    throttle.wrong(B, T0 + 2_000);
    expect(throttle.blocked(A, T0 + 2_000)).toBeUndefined();
  });
});
