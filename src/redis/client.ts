/**
 * A minimal Redis client (RESP2 over TCP or a unix socket): enough to read INFO, count keys and
 * copy keys with DUMP/RESTORE, binary-safe. The password is sent in the AUTH command, never in
 * a process's arguments.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { ConfigError, JobFailedError } from '../errors.js';

export interface RedisTarget {
  /** TCP host and port, or a unix socket path. */
  host?: string;
  port?: number;
  socket?: string;
  username?: string;
  password?: string;
  db: number;
  /** For messages and manifests: the URL without credentials. */
  display: string;
}

/** A redis:// URL (redis://[user@]host[:port][/db], redis+unix:///path or unix:///path). */
export function parseRedisUrl(url: string, name: string, env: NodeJS.ProcessEnv = process.env): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError(`${name} ${redactRedisUrl(url)} is not a URL`, {
      hint: 'give redis://host:6379 (the password in LMS_BACKUP_REDIS_PASSWORD or REDISCLI_AUTH)',
    });
  }
  const password =
    (u.password ? decodeURIComponent(u.password) : undefined) ??
    (env.LMS_BACKUP_REDIS_PASSWORD || env.REDISCLI_AUTH || undefined);
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const base = { ...(username ? { username } : {}), ...(password ? { password } : {}) };
  if (u.protocol === 'redis+unix:' || u.protocol === 'unix:') {
    const db = Number(u.searchParams.get('db') ?? 0);
    return { ...base, socket: decodeURIComponent(u.pathname), db, display: `unix://${u.pathname}` };
  }
  if (u.protocol === 'rediss:') {
    throw new ConfigError(`${name}: rediss:// (TLS) is not supported`, {
      hint: 'reach the server over redis:// on a private network, or a unix socket (unix:///path/redis.sock)',
    });
  }
  if (u.protocol !== 'redis:') {
    throw new ConfigError(`${name} ${redactRedisUrl(url)} is not a redis:// URL`, {
      hint: 'give redis://host:6379, redis://host:6379/2 or unix:///run/redis/redis.sock',
    });
  }
  const path = u.pathname.replace(/^\//, '');
  const db = path ? Number(path) : 0;
  if (!Number.isInteger(db) || db < 0) {
    throw new ConfigError(`${name}: the database number "${path}" is not a number`, {
      hint: 'give redis://host:6379/0',
    });
  }
  const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = u.port ? Number(u.port) : 6379;
  return { ...base, host, port, db, display: `redis://${u.hostname}:${port}${path ? `/${db}` : ''}` };
}

/** The URL with any password replaced, for messages. */
export function redactRedisUrl(url: string): string {
  return url.replace(/\/\/([^/@:]*):[^/@]*@/, '//$1:***@');
}

export type Reply = string | number | Buffer | null | Reply[] | RedisReplyError;

export class RedisReplyError extends Error {}

/** The server cannot be reached or refuses us (exit 1: the job ran and failed). */
export class RedisUnavailableError extends JobFailedError {}

export class RedisClient {
  private buf: Buffer = Buffer.alloc(0);
  private waiting: ((r: Reply | Error) => void)[] = [];
  private closed: Error | undefined;

  private constructor(private readonly sock: Socket) {
    sock.on('data', (c: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, c]) : c;
      this.drain();
    });
    const fail = (e: Error) => {
      this.closed = e;
      for (const w of this.waiting.splice(0)) w(e);
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('the connection closed')));
  }

  static async open(target: RedisTarget, timeoutMs = 10_000): Promise<RedisClient> {
    const sock = await new Promise<Socket>((resolve, reject) => {
      const s = target.socket
        ? netConnect({ path: target.socket })
        : netConnect({ host: target.host!, port: target.port! });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new Error(`no answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    }).catch((error: Error) => {
      throw new RedisUnavailableError(`cannot reach Redis at ${target.display}: ${error.message}`, {
        hint: 'check the host, the port and that the server runs',
      });
    });
    const c = new RedisClient(sock);
    if (target.password) {
      const args = target.username ? ['AUTH', target.username, target.password] : ['AUTH', target.password];
      const r = await c.call(...args).catch((e: Error) => e);
      if (r instanceof Error) {
        c.close();
        throw new ConfigError(`Redis at ${target.display} refused the password: ${r.message}`, {
          hint: 'set LMS_BACKUP_REDIS_PASSWORD (or REDISCLI_AUTH) to the password of the user in the URL',
        });
      }
    }
    if (target.db) await c.call('SELECT', String(target.db));
    return c;
  }

  /** One command; resolves with its reply, rejects with the server's error reply. */
  call(...args: (string | Buffer)[]): Promise<Reply> {
    if (this.closed) return Promise.reject(this.closed);
    const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
    for (const a of args) {
      const b = typeof a === 'string' ? Buffer.from(a) : a;
      parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
    }
    return new Promise((resolve, reject) => {
      this.waiting.push((r) => (r instanceof Error ? reject(r) : resolve(r)));
      this.sock.write(Buffer.concat(parts));
    });
  }

  async text(...args: string[]): Promise<string> {
    const r = await this.call(...args);
    return Buffer.isBuffer(r) ? r.toString('utf8') : String(r);
  }

  close(): void {
    this.sock.destroy();
  }

  private drain(): void {
    while (this.waiting.length) {
      const parsed = parseReply(this.buf, 0);
      if (!parsed) return;
      this.buf = this.buf.subarray(parsed.end);
      const w = this.waiting.shift()!;
      w(parsed.value instanceof RedisReplyError ? parsed.value : (parsed.value as Reply));
    }
  }
}

function parseReply(b: Buffer, at: number): { value: Reply; end: number } | undefined {
  const nl = b.indexOf('\r\n', at);
  if (nl < 0) return undefined;
  const kind = String.fromCharCode(b[at]!);
  const line = b.subarray(at + 1, nl).toString('utf8');
  const next = nl + 2;
  switch (kind) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new RedisReplyError(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      if (b.length < next + n + 2) return undefined;
      return { value: Buffer.from(b.subarray(next, next + n)), end: next + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const items: Reply[] = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const r = parseReply(b, pos);
        if (!r) return undefined;
        items.push(r.value);
        pos = r.end;
      }
      return { value: items, end: pos };
    }
    default:
      throw new Error(`unexpected Redis reply "${kind}"`);
  }
}

/** INFO's "key:value" lines as a map. */
export function parseInfo(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) m.set(line.slice(0, i), line.slice(i + 1).trim());
  }
  return m;
}

/** Keys per database from INFO keyspace ("db0:keys=12,expires=0,…"). */
export function keyspace(info: Map<string, string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of info) {
    if (!/^db\d+$/.test(k)) continue;
    const m = /keys=(\d+)/.exec(v);
    if (m) out[k] = Number(m[1]);
  }
  return out;
}

export async function serverFacts(
  c: RedisClient,
): Promise<{ version: string; keyspace: Record<string, number> }> {
  const info = parseInfo(await c.text('INFO'));
  return { version: info.get('redis_version') ?? 'unknown', keyspace: keyspace(info) };
}

export function totalKeys(ks: Record<string, number>): number {
  return Object.values(ks).reduce((a, b) => a + b, 0);
}
