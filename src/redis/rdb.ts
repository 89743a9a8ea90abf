/**
 * Redis snapshots with the standard tools: `redis-cli --rdb` takes one over the replication
 * protocol (the password in REDISCLI_AUTH, never in argv), `redis-check-rdb` checks one and
 * counts its keys, and a throwaway `redis-server` (its own temp dir, a unix socket, no TCP port)
 * loads one for the drill and the restore.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, JobFailedError } from '../errors.js';
import {
  RedisClient as Client,
  type RedisClient,
  type RedisTarget,
  serverFacts,
  totalKeys,
} from './client.js';

/** A Redis tool is missing (exit 2). */
export class RedisToolMissingError extends ConfigError {}

function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') {
        reject(
          new RedisToolMissingError(`${cmd} is not installed`, {
            hint: 'install the Redis tools (Debian/Ubuntu: apt-get install redis-tools redis-server)',
          }),
        );
      } else reject(e);
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The connection arguments of redis-cli, without the password (that goes in REDISCLI_AUTH). */
function cliArgs(t: RedisTarget): string[] {
  const a = t.socket ? ['-s', t.socket] : ['-h', t.host!, '-p', String(t.port)];
  if (t.username) a.push('--user', t.username);
  return a;
}

function cliEnv(t: RedisTarget): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.REDISCLI_AUTH;
  if (t.password) env.REDISCLI_AUTH = t.password;
  return env;
}

export interface Snapshot {
  file: string;
  serverVersion: string;
  keyspace: Record<string, number>;
  /** Keys in the RDB file, as redis-check-rdb counts them (minus those already expired). */
  keys: number;
}

/** Takes an RDB snapshot of the whole instance into `file`. */
export async function takeSnapshot(t: RedisTarget, file: string): Promise<Snapshot> {
  const c = await Client.open(t);
  let facts: Awaited<ReturnType<typeof serverFacts>>;
  try {
    facts = await serverFacts(c);
  } finally {
    c.close();
  }
  const r = await run('redis-cli', [...cliArgs(t), '--no-auth-warning', '--rdb', file], cliEnv(t));
  if (r.code !== 0 || !existsSync(file)) {
    throw new JobFailedError(
      `redis-cli --rdb against ${t.display} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`,
      {
        hint: 'the user needs the SYNC/PSYNC permission (the replication protocol); on a managed Redis without it, take the RDB with the provider and back the file up with files',
      },
    );
  }
  const check = await checkRdb(file);
  if (!check.ok) throw new JobFailedError(`the snapshot of ${t.display} does not check: ${check.detail}`);
  return { file, serverVersion: facts.version, keyspace: facts.keyspace, keys: check.keys };
}

/** redis-check-rdb on a file: whether it is sound, and its key count. */
export async function checkRdb(file: string): Promise<{ ok: boolean; keys: number; detail: string }> {
  const r = await run('redis-check-rdb', [file], process.env);
  const out = `${r.stdout}\n${r.stderr}`;
  const read = /\[info\] (\d+) keys read/.exec(out);
  const expired = /\[info\] (\d+) already expired/.exec(out);
  const keys = read ? Number(read[1]) - (expired ? Number(expired[1]) : 0) : 0;
  const ok = r.code === 0 && /RDB looks OK/.test(out);
  const last = out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  return {
    ok,
    keys,
    detail: ok
      ? `redis-check-rdb: RDB looks OK, ${keys} keys`
      : `redis-check-rdb failed: ${
          last
            .filter((l) => /error|wrong|unexpected|fail|invalid/i.test(l))
            .slice(0, 3)
            .join(' ') || last.slice(-3).join(' ')
        }`,
  };
}

export interface ThrowawayRedis {
  target: RedisTarget;
  client: RedisClient;
  stop(): Promise<void>;
}

/**
 * Starts a redis-server that loads `rdb`, in `dir` (its own), listening on a unix socket only.
 * No persistence: nothing it holds is written back.
 */
export async function startThrowawayRedis(rdb: string, dir: string): Promise<ThrowawayRedis> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await copyFile(rdb, join(dir, 'dump.rdb'));
  const socket = join(dir, 'redis.sock');
  let log = '';
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      '0',
      '--unixsocket',
      socket,
      '--unixsocketperm',
      '700',
      '--dir',
      dir,
      '--dbfilename',
      'dump.rdb',
      '--save',
      '',
      '--appendonly',
      'no',
      '--databases',
      '10000',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (c: Buffer) => {
    log = (log + c.toString()).slice(-4000);
  });
  child.stderr?.on('data', (c: Buffer) => {
    log = (log + c.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'ENOENT'
          ? new RedisToolMissingError('redis-server is not installed', {
              hint: 'install it (Debian/Ubuntu: apt-get install redis-server)',
            })
          : e,
      ),
    ),
  );
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  };
  const target: RedisTarget = { socket, db: 0, display: `throwaway redis-server (${socket})` };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new JobFailedError(`the throwaway redis-server could not load the snapshot: ${lastLines(log)}`);
    }
    if (existsSync(socket)) {
      try {
        const client = await Promise.race([Client.open(target, 2000), spawnError]);
        const r = await client.call('PING').catch((e: Error) => e);
        if (r === 'PONG') {
          return {
            target,
            client,
            stop: async () => {
              client.close();
              await stop();
            },
          };
        }
        client.close();
      } catch (error) {
        if (error instanceof RedisToolMissingError) throw error;
      }
    }
    if (Date.now() > deadline) {
      await stop();
      throw new JobFailedError(`the throwaway redis-server did not answer within 60 s: ${lastLines(log)}`);
    }
    await Promise.race([new Promise((r) => setTimeout(r, 100)), spawnError]);
  }
}

function lastLines(log: string): string {
  return log.trim().split('\n').slice(-3).join(' ') || 'no output';
}

/** Keys over every database of a server. */
export async function countKeys(c: RedisClient): Promise<{ keys: number; keyspace: Record<string, number> }> {
  const f = await serverFacts(c);
  return { keys: totalKeys(f.keyspace), keyspace: f.keyspace };
}

/**
 * Copies every key of every database from `from` to `to` with DUMP/RESTORE (values, types and
 * TTLs exactly; binary-safe). Keys that exist in the target are replaced only when `replace`.
 */
export async function copyKeys(
  from: RedisClient,
  to: RedisClient,
  keyspaceOfSource: Record<string, number>,
  options: { replace: boolean },
): Promise<number> {
  let copied = 0;
  for (const name of Object.keys(keyspaceOfSource).sort()) {
    const db = name.slice(2);
    await from.call('SELECT', db);
    await to.call('SELECT', db);
    let cursor = '0';
    do {
      const r = (await from.call('SCAN', cursor, 'COUNT', '500')) as [Buffer, Buffer[]];
      cursor = r[0].toString();
      for (const key of r[1]) {
        const dump = await from.call('DUMP', key);
        if (dump === null) continue; // expired meanwhile
        const pttl = Number(await from.call('PTTL', key));
        const args: (string | Buffer)[] = ['RESTORE', key, String(Math.max(pttl, 0)), dump as Buffer];
        if (options.replace) args.push('REPLACE');
        await to.call(...args);
        copied++;
      }
    } while (cursor !== '0');
  }
  await from.call('SELECT', '0');
  return copied;
}
