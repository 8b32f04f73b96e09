import { connect, type Socket } from 'node:net';

// A bare Redis connection for the one command on the webhook's hot path (the intake's accept
// script). ioredis costs about as much CPU per command as the rest of the webhook together
// (command objects, argument flattening, a timer per command, auto-pipelining bookkeeping);
// this writes the RESP bytes of a command in one string and reads the reply with a small
// parser, and checks timeouts with one interval for all commands. Like the producer connection
// it fails fast: a command sent while Redis is away is refused (the sender gets 503), and the
// next command connects again. Plain `redis://` over TCP only; anything else (TLS, a unix
// socket) keeps using ioredis (see `respConnectionFor`).

export type Reply = string | number | null | Reply[];

export class RedisReplyError extends Error {}

interface Pending {
  resolve: (value: Reply) => void;
  reject: (err: Error) => void;
  at: number;
}

const TIMEOUT_MS = 2_000;

/** What a redis:// URL says; undefined when this connection cannot serve it. */
function parseUrl(url: string): { host: string; port: number; username?: string; password?: string; db?: number } | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'redis:' || u.hostname === '') return undefined;
  const out: { host: string; port: number; username?: string; password?: string; db?: number } = {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: u.port === '' ? 6379 : Number(u.port),
  };
  if (u.password !== '') out.password = decodeURIComponent(u.password);
  if (u.username !== '' && u.password !== '') out.username = decodeURIComponent(u.username);
  const db = u.pathname.replace(/^\//, '');
  if (db !== '') {
    if (!/^\d+$/.test(db)) return undefined;
    out.db = Number(db);
  }
  return out;
}

/** A RespConnection for `url`, or undefined when it is not a plain TCP redis:// URL. */
export function respConnectionFor(url: string): RespConnection | undefined {
  const target = parseUrl(url);
  return target ? new RespConnection(target) : undefined;
}

/** One command as RESP text: `*N`, then `$len` and each argument. */
export function encodeCommand(args: readonly (string | number)[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) {
    const text = typeof arg === 'string' ? arg : String(arg);
    out += `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
  }
  return out;
}

export class RespConnection {
  readonly #target: NonNullable<ReturnType<typeof parseUrl>>;
  #socket: Socket | undefined;
  #ready = false;
  readonly #pending: Pending[] = [];
  #buffer: Buffer = Buffer.alloc(0);
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(target: NonNullable<ReturnType<typeof parseUrl>>) {
    this.#target = target;
  }

  /** Sends one command; resolves with its reply, rejects with RedisReplyError for an error reply. */
  send(args: readonly (string | number)[]): Promise<Reply> {
    if (this.#closed) return Promise.reject(new Error('connection closed'));
    const socket = this.#socket ?? this.#connect();
    return new Promise<Reply>((resolve, reject) => {
      this.#pending.push({ resolve, reject, at: Date.now() });
      socket.write(encodeCommand(args));
    });
  }

  #connect(): Socket {
    const socket = connect({ host: this.#target.host, port: this.#target.port, noDelay: true });
    this.#socket = socket;
    this.#ready = false;
    this.#buffer = Buffer.alloc(0);
    // Written first, so their replies come first: they are answered to nobody.
    const hello: Pending[] = [];
    const preamble = (args: (string | number)[]) => {
      const entry: Pending = { resolve: () => undefined, reject: () => undefined, at: Date.now() };
      hello.push(entry);
      this.#pending.push(entry);
      socket.write(encodeCommand(args));
    };
    if (this.#target.password !== undefined) {
      preamble(this.#target.username !== undefined ? ['AUTH', this.#target.username, this.#target.password] : ['AUTH', this.#target.password]);
    }
    if (this.#target.db !== undefined) preamble(['SELECT', this.#target.db]);
    socket.on('connect', () => {
      this.#ready = true;
    });
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    const fail = (err: Error) => this.#fail(socket, err);
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection to Redis closed')));
    this.#timer ??= setInterval(() => this.#checkTimeouts(), 250).unref();
    return socket;
  }

  #fail(socket: Socket, err: Error): void {
    if (this.#socket !== socket) return;
    this.#socket = undefined;
    this.#ready = false;
    socket.destroy();
    const pending = this.#pending.splice(0);
    for (const p of pending) p.reject(err);
  }

  #checkTimeouts(): void {
    const oldest = this.#pending[0];
    if (oldest && Date.now() - oldest.at > TIMEOUT_MS && this.#socket) {
      this.#fail(this.#socket, new Error(`Redis did not answer within ${TIMEOUT_MS / 1000} s${this.#ready ? '' : ' (not connected)'}`));
    }
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    let offset = 0;
    for (;;) {
      let parsed;
      try {
        parsed = parseReply(this.#buffer, offset);
      } catch (err) {
        if (this.#socket) this.#fail(this.#socket, err as Error);
        return;
      }
      if (parsed === undefined) break;
      offset = parsed.next;
      const waiter = this.#pending.shift();
      if (!waiter) continue;
      if (parsed.error !== undefined) waiter.reject(new RedisReplyError(parsed.error));
      else waiter.resolve(parsed.value);
    }
    this.#buffer = offset >= this.#buffer.length ? Buffer.alloc(0) : this.#buffer.subarray(offset);
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#socket) this.#fail(this.#socket, new Error('connection closed'));
  }
}

/** One reply from `buf` at `offset`; undefined when it has not all arrived yet. */
export function parseReply(buf: Buffer, offset: number): { value: Reply; error?: string; next: number } | undefined {
  if (offset >= buf.length) return undefined;
  const eol = buf.indexOf('\r\n', offset);
  if (eol < 0) return undefined;
  const type = buf[offset];
  const line = buf.toString('utf8', offset + 1, eol);
  const next = eol + 2;
  switch (type) {
    case 0x2b: // +
      return { value: line, next };
    case 0x2d: // -
      return { value: null, error: line, next };
    case 0x3a: // :
      return { value: Number(line), next };
    case 0x24: {
      // $
      const len = Number(line);
      if (len < 0) return { value: null, next };
      if (buf.length < next + len + 2) return undefined;
      return { value: buf.toString('utf8', next, next + len), next: next + len + 2 };
    }
    case 0x2a: {
      // *
      const count = Number(line);
      if (count < 0) return { value: null, next };
      const items: Reply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, at);
        if (item === undefined) return undefined;
        items.push(item.value);
        at = item.next;
      }
      return { value: items, next: at };
    }
    default:
      throw new Error(`unexpected Redis reply type ${String.fromCharCode(type ?? 0)}`);
  }
}
