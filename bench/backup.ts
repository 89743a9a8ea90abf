/**
 * Backup speed and memory: bare `pg_dump -Fc > file` against `lms-backup backup` at its default
 * compression and at the same compression as the bare run, and with encryption on vs off, on a
 * generated LMS database of at least 0.5 GB. Alternating runs; medians, ratios, peak RSS.
 * Run alone with `npx tsx bench/backup.ts`.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { seedLms } from '../src/commands/lms-schema.js';
import { generateIdentity } from '../src/crypto/age.js';
import { startLocalPostgres } from '../src/engines/local.js';
import type { ThrowawayPostgres } from '../src/engines/types.js';
import { connect } from '../src/postgres/client.js';
import { withDatabase } from '../src/postgres/connection.js';
import { tempDir } from '../test/helpers/pg.js';
import { alternate, type Measured, measure, median, table } from './common.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli', 'index.js');

export interface BenchDb {
  server: ThrowawayPostgres;
  env: NodeJS.ProcessEnv;
  bytes: number;
}

/** A throwaway server with the LMS schema seeded to at least `minBytes`. */
export async function startBenchDb(minBytes = 512 * 1024 * 1024): Promise<BenchDb> {
  const server = await startLocalPostgres({ database: 'lms', durable: false });
  const conn = withDatabase(server.connection, 'lms');
  const client = await connect(conn);
  // Scale 1 adds about 3 MiB of tables and indexes; aim a little over the minimum.
  await seedLms(client, Math.ceil(minBytes / (2.7 * 1024 * 1024)));
  const r = await client.query<{ b: string }>('SELECT pg_database_size(current_database()) AS b');
  await client.end();
  const env = {
    ...process.env,
    PGHOST: conn.host,
    PGPORT: String(conn.port),
    PGUSER: conn.user,
    PGDATABASE: conn.database,
    PGPASSWORD: conn.password ?? '',
  };
  return { server, env, bytes: Number(r.rows[0]!.b) };
}

export async function benchBackup(opts: { runs?: number; db?: BenchDb } = {}): Promise<string> {
  const runs = opts.runs ?? 3;
  const db = opts.db ?? (await startBenchDb());
  const work = tempDir('lms-bench-');
  const { recipient } = generateIdentity();
  try {
    process.stderr.write(
      `backup bench on ${(db.bytes / 1024 / 1024).toFixed(0)} MiB of tables and indexes\n`,
    );
    let n = 0;
    const out = () => join(work.path, `d${n++}`);
    const sizes: Record<string, number> = {};
    const lms = (name: string, extra: string[]) => async () => {
      const dir = out();
      const m = await measure(process.execPath, [CLI, '-q', 'backup', '--to', dir, ...extra], db.env);
      const dump = readdirSync(join(dir, 'db')).find((f) => /\.dump(\.age)?$/.test(f))!;
      sizes[name] = statSync(join(dir, 'db', dump)).size;
      rmSync(dir, { recursive: true, force: true });
      return m;
    };
    const bare = (name: string, z: string[]) => async () => {
      const file = out();
      const m = await measure('sh', ['-c', `pg_dump -Fc ${z.join(' ')} > "${file}"`], db.env);
      sizes[name] = statSync(file).size;
      rmSync(file, { force: true });
      return m;
    };
    const variants = {
      'pg_dump -Fc (default gzip:6)': (n: string) => bare(n, []),
      'lms-backup, gzip:6, encrypted': (n: string) =>
        lms(n, ['--compression', 'gzip:6', '--recipient', recipient]),
      'pg_dump -Fc -Z1': (n: string) => bare(n, ['-Z1']),
      'lms-backup, default (gzip:1), encrypted': (n: string) => lms(n, ['--recipient', recipient]),
      'lms-backup, default (gzip:1), not encrypted': (n: string) => lms(n, ['--no-encryption']),
    };
    const r = await alternate(
      runs,
      Object.fromEntries(Object.entries(variants).map(([n, f]) => [n, f(n)])) as Record<
        keyof typeof variants,
        () => Promise<Measured>
      >,
    );
    const med = (k: keyof typeof r) => median(r[k].map((m) => m.seconds));
    const rss = (k: keyof typeof r) => Math.max(...r[k].map((m) => m.peakRssMiB));
    const base = med('pg_dump -Fc (default gzip:6)');
    const rows = (Object.keys(r) as (keyof typeof r)[]).map((k) => [
      k,
      med(k).toFixed(2),
      (med(k) / base).toFixed(2),
      ((sizes[k] ?? 0) / 1024 / 1024).toFixed(0),
      rss(k).toFixed(0),
    ]);
    const same = med('lms-backup, gzip:6, encrypted') / base;
    const sameZ1 = med('lms-backup, default (gzip:1), encrypted') / med('pg_dump -Fc -Z1');
    const enc =
      med('lms-backup, default (gzip:1), encrypted') / med('lms-backup, default (gzip:1), not encrypted');
    return [
      `### Backup (${(db.bytes / 1024 / 1024).toFixed(0)} MiB database, median of ${runs} alternating runs)`,
      '',
      table(['variant', 'median s', 'vs bare pg_dump -Fc', 'output MiB', 'peak RSS MiB'], rows),
      '',
      `- lms-backup at its default compression vs bare \`pg_dump -Fc\`: **${(med('lms-backup, default (gzip:1), encrypted') / base).toFixed(2)}x** the time`,
      `- lms-backup vs bare pg_dump at the same compression: gzip:6 **${same.toFixed(2)}x**, gzip:1 **${sameZ1.toFixed(2)}x** (checksum + age encryption + fsync + manifest on top)`,
      `- encryption on vs off: **${enc.toFixed(3)}x** (target <= 1.05)`,
      '- peak RSS is the largest process in the run (GNU time %M): for lms-backup, the Node process or its pg_dump child',
      '',
    ].join('\n');
  } finally {
    work.remove();
    if (!opts.db) await db.server.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${await benchBackup()}\n`);
  process.exit(0);
}
