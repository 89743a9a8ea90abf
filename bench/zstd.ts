/**
 * `compression: auto` (zstd:1 outside a -Z0 archive) and pg_dump 16+'s own zstd:1 against
 * gzip:1, size and time, on the bench database: all through lms-backup with the same pg_dump (the newest major's image, run in a
 * container by the pg tool resolver, LMS_PG_TOOLS=container), alternating runs. Needs Docker and
 * lms-backup/postgres:<major> or postgres:<major> (scripts/build-postgres-image.sh).
 * Run alone with `npx tsx bench/zstd.ts` (BENCH_ZSTD_MIB sets the database size, default 512).
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateIdentity } from '../src/crypto/age.js';
import { containerTool } from '../src/postgres/exec.js';
import { tempDir } from '../test/helpers/pg.js';
import { type BenchDb, startBenchDb } from './backup.js';
import { alternate, type Measured, measure, median, table } from './common.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli', 'index.js');

export async function benchZstd(opts: { runs?: number; db?: BenchDb; major?: number } = {}): Promise<string> {
  const runs = opts.runs ?? 3;
  const major = opts.major ?? 18;
  const found = await containerTool('pg_dump', major, {});
  if (!found.tool) {
    return `### zstd vs gzip:1\n\nnot measured: no pg_dump ${major} image (${found.tried.join('; ')})\n`;
  }
  const db = opts.db ?? (await startBenchDb());
  const work = tempDir('lms-bench-zstd-');
  const { recipient } = generateIdentity();
  const env = { ...db.env, LMS_PG_TOOLS: 'container', LMS_PG_TOOL_IMAGE: found.tool.image };
  try {
    process.stderr.write(
      `zstd bench on ${(db.bytes / 1024 / 1024).toFixed(0)} MiB with pg_dump ${found.tool.version} from ${found.tool.image}\n`,
    );
    let n = 0;
    const sizes: Record<string, number> = {};
    const lms = (name: string, extra: string[]) => async (): Promise<Measured> => {
      const dir = join(work.path, `d${n++}`);
      const m = await measure(
        process.execPath,
        [CLI, '-q', 'backup', '--to', dir, '--recipient', recipient, ...extra],
        env,
      );
      const dump = readdirSync(join(dir, 'db')).find((f) => /\.dump(\.age)?$/.test(f))!;
      sizes[name] = statSync(join(dir, 'db', dump)).size;
      rmSync(dir, { recursive: true, force: true });
      return m;
    };
    const r = await alternate(runs, {
      'gzip:1': lms('gzip:1', ['--compression', 'gzip:1']),
      'auto (zstd:1 outside the -Z0 archive)': lms('auto (zstd:1 outside the -Z0 archive)', [
        '--compression',
        'auto',
      ]),
      'pg_dump native zstd:1': lms('pg_dump native zstd:1', ['--compression', 'zstd:1']),
    });
    const med = (k: keyof typeof r) => median(r[k].map((m) => m.seconds));
    const rows = (Object.keys(r) as (keyof typeof r)[]).map((k) => [
      k,
      med(k).toFixed(2),
      (med(k) / med('gzip:1')).toFixed(2),
      ((sizes[k] ?? 0) / 1024 / 1024).toFixed(1),
      ((sizes[k] ?? 0) / (sizes['gzip:1'] ?? 1)).toFixed(3),
    ]);
    return [
      `### auto, pg_dump-native zstd:1 and gzip:1 (${(db.bytes / 1024 / 1024).toFixed(0)} MiB database, pg_dump ${found.tool.version} in a container, encrypted, median of ${runs} alternating runs)`,
      '',
      table(['compression', 'median s', 'time vs gzip:1', 'output MiB', 'size vs gzip:1'], rows),
      '',
    ].join('\n');
  } finally {
    work.remove();
    if (!opts.db) await db.server.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const mib = Number(process.env.BENCH_ZSTD_MIB ?? 512);
  const db = await startBenchDb(mib * 1024 * 1024);
  try {
    process.stdout.write(`${await benchZstd({ db, runs: Number(process.env.BENCH_RUNS ?? 3) })}\n`);
  } finally {
    await db.server.stop();
  }
  process.exit(0);
}
