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

/** The shortest base64 fragment that identifies a secret inside a longer encoded text. */
const MIN_FRAGMENT = 8;
/** A run of base64 / base64url characters, as a token in a log line. */
const BASE64_RUN = /[A-Za-z0-9+/_-]{4,}={0,2}/g;

interface Encodings {
  /** Texts replaced wherever they appear: the value, URL-encoded, JSON-escaped. */
  literal: string[];
  /** Base64 fragments: a base64 run containing one is the secret encoded, maybe with more around it. */
  fragments: string[];
}

const cache = new Map<string, Encodings>();

/**
 * How a secret can show up in a log line besides as itself: URL-encoded (in a URL or a form),
 * JSON-escaped, and base64 / base64url encoded, alone or inside a longer encoded text such as
 * Docker's `auth` field, base64("user:password"). Base64 of a value depends on where it starts
 * within its 3-byte group, so a fragment is taken for each of the three offsets, dropping the
 * characters that mix in bytes from around the value.
 */
function encodingsOf(value: string): Encodings {
  const known = cache.get(value);
  if (known) return known;
  const literal = new Set([value]);
  const url = encodeURIComponent(value);
  literal.add(url);
  literal.add(url.replaceAll('%20', '+'));
  literal.add(JSON.stringify(value).slice(1, -1));
  const fragments = new Set<string>();
  const bytes = Buffer.from(value, 'utf8');
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const start = offset === 0 ? 0 : 4;
    const end = 4 * Math.floor((offset + bytes.length) / 3);
    const fragment = encoded.slice(start, end);
    if (fragment.length >= MIN_FRAGMENT) fragments.add(fragment);
  }
  // The value encoded alone, even when too short for a fragment of its own (padding included).
  const whole = bytes.toString('base64');
  for (const f of [...fragments, whole]) {
    fragments.add(f);
    fragments.add(f.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, ''));
  }
  const result = { literal: [...literal].sort((a, b) => b.length - a.length), fragments: [...fragments] };
  if (cache.size > 1_000) cache.clear();
  cache.set(value, result);
  return result;
}

/**
 * Replaces each secret in `text` with ***, and every encoding of it (see `encodingsOf`): a
 * base64 run that holds the secret is replaced whole, so nothing of it is left to decode.
 */
export function maskSecrets(text: string, secrets: Iterable<Secret | string | undefined>): string {
  let out = text;
  const fragments: string[] = [];
  for (const s of secrets) {
    const value = s instanceof Secret ? s.reveal() : s;
    // Very short values would mask ordinary words; nobody uses a 1-3 character password.
    if (!value || value.length < 4) continue;
    const encodings = encodingsOf(value);
    for (const literal of encodings.literal) out = out.split(literal).join('***');
    fragments.push(...encodings.fragments);
  }
  if (fragments.length === 0) return out;
  return out.replace(BASE64_RUN, (run) => (fragments.some((f) => run.includes(f)) ? '***' : run));
}
