// The error a promise rejects with, asserting its type: tests then check what the user reads.
import { expect } from 'vitest';
import { BuildError } from '../../src/core/errors.js';

export async function rejection<T extends Error = BuildError>(
  p: Promise<unknown>,
  type: abstract new (...args: never[]) => T = BuildError as never,
): Promise<T> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(type);
  return err as T;
}
