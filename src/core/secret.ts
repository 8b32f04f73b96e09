import { inspect } from 'node:util';

// A secret is a value that prints as *** everywhere: String(), JSON, util.inspect, template
// literals. Only `reveal()` gives the text, and only the code that must send it calls that.
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  get empty(): boolean {
    return this.#value.length === 0;
  }

  toString(): string {
    return '***';
  }

  toJSON(): string {
    return '***';
  }

  [inspect.custom](): string {
    return 'Secret(***)';
  }
}

/** Replaces every occurrence of each secret's text in `text` with ***. */
export function maskSecrets(text: string, secrets: Iterable<Secret | string | undefined>): string {
  let out = text;
  for (const s of secrets) {
    const value = s instanceof Secret ? s.reveal() : s;
    // Very short values would mask ordinary words; nobody uses a 1-3 character password.
    if (!value || value.length < 4) continue;
    out = out.split(value).join('***');
  }
  return out;
}
