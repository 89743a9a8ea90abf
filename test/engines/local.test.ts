import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NoLocalServerError, startLocalPostgres } from '../../src/engines/local.js';
import { nullLogger } from '../../src/log.js';
import { connect, takeTemplateAsDatabase } from '../../src/postgres/client.js';

async function canConnect(conn: Parameters<typeof connect>[0]): Promise<boolean> {
  try {
    const c = await connect(conn, { timeoutMs: 1000 });
    await c.end();
    return true;
  } catch {
    return false;
  }
}

describe('local throwaway PostgreSQL', () => {
  it('starts on a random port with durability off, serves queries, and is gone after stop()', async () => {
    const pg = await startLocalPostgres({ database: 'app' });
    const binDir = pg.binDir!;
    expect(pg.engine).toBe('local');
    expect(pg.major).toBeGreaterThanOrEqual(10);
    expect(binDir).toBeTruthy();
    const client = await connect({ ...pg.connection, database: 'app' });
    await client.query('CREATE TABLE t (id int)');
    await client.query('INSERT INTO t SELECT generate_series(1, 100)');
    const r = await client.query<{ n: string }>('SELECT count(*) AS n FROM t');
    expect(Number(r.rows[0]!.n)).toBe(100);
    const fsync = await client.query<{ fsync: string }>('SHOW fsync');
    expect(fsync.rows[0]!.fsync).toBe('off');
    await client.end();
    await pg.stop();
    expect(await canConnect(pg.connection)).toBe(false);
    await pg.stop(); // idempotent
  });

  it('initdb runs beside the event loop (a drill downloads while its server is made), and the restore settings are on', async () => {
    let ticks = 0;
    let duringInitdb = -1;
    const timer = setInterval(() => ticks++, 5);
    const logger = {
      ...nullLogger,
      group: async <T>(title: string, fn: () => Promise<T>): Promise<T> => {
        if (!title.startsWith('initdb')) return fn();
        const before = ticks;
        try {
          return await fn();
        } finally {
          duringInitdb = ticks - before;
        }
      },
    };
    const pg = await startLocalPostgres({ restore: true, logger });
    clearInterval(timer);
    try {
      // initdb takes a good part of a second: a synchronous one would let no timer fire at all.
      expect(duringInitdb).toBeGreaterThanOrEqual(3);
      const client = await connect(pg.connection);
      const show = async (name: string) =>
        (await client.query<Record<string, string>>(`SHOW ${name}`)).rows[0]![name];
      expect(await show('wal_level')).toBe('minimal');
      expect(await show('autovacuum')).toBe('off');
      expect(await show('work_mem')).toBe('64MB');
      await client.end();
    } finally {
      await pg.stop();
    }
    expect(await canConnect(pg.connection)).toBe(false);
  });

  it('keeps durability on when asked', async () => {
    const pg = await startLocalPostgres({ durable: true });
    try {
      const client = await connect(pg.connection);
      const r = await client.query<{ fsync: string }>('SHOW fsync');
      expect(r.rows[0]!.fsync).toBe('on');
      await client.end();
    } finally {
      await pg.stop();
    }
  });

  // As root the server runs as "postgres" (or "nobody"), which must reach the temp directory.
  it.runIf(process.getuid?.() === 0)(
    'as root, a TMPDIR the server user cannot reach is refused up front, naming TMPDIR and the fix',
    async () => {
      const tmp = mkdtempSync(join(tmpdir(), 'lms-private-'));
      chmodSync(tmp, 0o700);
      const saved = process.env.TMPDIR;
      process.env.TMPDIR = tmp;
      try {
        const error = await startLocalPostgres({}).then(
          () => undefined,
          (e: unknown) => e as NoLocalServerError,
        );
        expect(error).toBeInstanceOf(NoLocalServerError);
        expect(error?.message).toMatch(
          /temp directory .*lms-private-.* is out of reach of user "(postgres|nobody)"/,
        );
        expect(error?.hint).toMatch(/TMPDIR/);
        expect(readdirSync(tmp)).toEqual([]);
      } finally {
        if (saved === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = saved;
        rmSync(tmp, { recursive: true, force: true });
      }
    },
  );

  it('refuses a wrong password', async () => {
    const pg = await startLocalPostgres();
    try {
      await expect(connect({ ...pg.connection, password: 'wrong' })).rejects.toMatchObject({
        name: 'PgConnectionConfigError',
        exitCode: 2,
      });
    } finally {
      await pg.stop();
    }
  });

  it('tears the server down when its process gets SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/start-local-and-wait.ts'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let buf = '';
      child.stdout!.on('data', (d) => {
        buf += d;
        if (buf.includes('\n')) resolve(buf.split('\n')[0]!);
      });
      child.once('exit', (code) => reject(new Error(`helper exited early (${code})`)));
    });
    const info = JSON.parse(line) as { port: number; password: string; dir: string };
    const conn = {
      host: '127.0.0.1',
      port: info.port,
      user: 'postgres',
      database: 'postgres',
      password: info.password,
    };
    expect(await canConnect(conn)).toBe(true);
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(143);
    expect(await canConnect(conn)).toBe(false);
    expect(existsSync(info.dir)).toBe(false);
  });

  it("a drill's database is the fresh server's template1 renamed, else created; an existing one is kept", async () => {
    const pg = await startLocalPostgres();
    try {
      const admin = await connect(pg.connection);
      const databases = async () =>
        (
          await admin.query<{ datname: string; datistemplate: boolean }>(
            'SELECT datname, datistemplate FROM pg_database ORDER BY datname',
          )
        ).rows.map((r) => `${r.datname}${r.datistemplate ? ' (template)' : ''}`);
      const relations = async (database: string) => {
        const c = await connect({ ...pg.connection, database });
        try {
          return (await c.query<{ n: string }>('SELECT count(*) AS n FROM pg_class')).rows[0]!.n;
        } finally {
          await c.end();
        }
      };
      const catalog = await relations('template1');

      expect(await takeTemplateAsDatabase(pg.connection, 'My "LMS"')).toBe('renamed');
      expect(await databases()).toEqual(['My "LMS"', 'postgres', 'template0 (template)']);
      expect(await relations('My "LMS"')).toBe(catalog);

      // A role that may create databases but does not own template1 cannot rename it: created.
      const again = await startLocalPostgres();
      try {
        const a = await connect(again.connection);
        await a.query("CREATE ROLE maker LOGIN CREATEDB PASSWORD 'maker-pw'");
        await a.end();
        const maker = { ...again.connection, user: 'maker', password: 'maker-pw' };
        expect(await takeTemplateAsDatabase(maker, 'second')).toBe('created');
        const c = await connect(again.connection);
        const rows = await c.query<{ datname: string }>('SELECT datname FROM pg_database ORDER BY 1');
        expect(rows.rows.map((r) => r.datname)).toEqual(['postgres', 'second', 'template0', 'template1']);
        await c.end();
      } finally {
        await again.stop();
      }
      expect(await takeTemplateAsDatabase(pg.connection, 'postgres')).toBe('existing');
      await admin.end();
    } finally {
      await pg.stop();
    }
  });
});
