/**
 * The drill against a naive baseline on the same backup: the baseline is `createdb` on an
 * already running server, `pg_restore -j1` of the plaintext dump and `count(*)` per table;
 * the drill verifies the checksum, decrypts, starts its own throwaway server, restores with
 * parallel jobs into a server with durability off, and validates exact counts against the
 * manifest. Alternating runs; medians, ratio and the drill's phase breakdown.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DrillReport, Manifest } from '../src/catalog/types.js';
import { generateIdentity } from '../src/crypto/age.js';
import { dockerImageExists } from '../src/engines/docker.js';
import { majorOfVersionNum } from '../src/postgres/client.js';
import { tempDir } from '../test/helpers/pg.js';
import { type BenchDb, startBenchDb } from './backup.js';
import { alternate, type Measured, measure, median, table } from './common.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli', 'index.js');

const SHM = 'lms-backup drill, TMPDIR on tmpfs (/dev/shm)';
const DOCKER = 'lms-backup drill, docker engine';

/** A directory on /dev/shm when it is a tmpfs with `bytes` free. */
function tmpfsRoom(bytes: number): { path: string; remove(): void } | undefined {
  try {
    const fs = statfsSync('/dev/shm');
    if (fs.type !== TMPFS_MAGIC || fs.bavail * fs.bsize < bytes) return undefined;
    const path = mkdtempSync('/dev/shm/lms-bench-');
    chmodSync(path, 0o755); // the throwaway server's user (not root) makes its files in there
    return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
  } catch {
    return undefined;
  }
}
const TMPFS_MAGIC = 0x01021994;

export async function benchDrill(opts: { runs?: number; db?: BenchDb } = {}): Promise<string> {
  const runs = opts.runs ?? 3;
  const db = opts.db ?? (await startBenchDb());
  const work = tempDir('lms-bench-drill-');
  try {
    const keys = generateIdentity();
    const dest = join(work.path, 'backups');
    execFileSync(process.execPath, [CLI, '-q', 'backup', '--to', dest, '--recipient', keys.recipient], {
      env: db.env,
    });
    const manifestFile = readdirSync(join(dest, 'db')).find((f) => f.endsWith('.manifest.json'))!;
    const manifest = JSON.parse(readFileSync(join(dest, 'db', manifestFile), 'utf8')) as Manifest;
    const keyFile = join(work.path, 'key.txt');
    writeFileSync(keyFile, `${keys.identity}\n`, { mode: 0o600 });
    const plain = join(work.path, 'plain.dump');
    // The naive side starts from the ready archive (decrypted and decompressed, untimed).
    if (manifest.dump.outerCompression) {
      execFileSync('age', ['-d', '-i', keyFile, '-o', `${plain}.zst`, join(dest, manifest.object.key)]);
      execFileSync('zstd', ['-q', '-d', '--rm', `${plain}.zst`, '-o', plain]);
    } else {
      execFileSync('age', ['-d', '-i', keyFile, '-o', plain, join(dest, manifest.object.key)]);
    }

    const counts = manifest.inventory.tables
      .map((t) => `SELECT count(*) FROM "${t.schema}"."${t.name}";`)
      .join(' ');
    let n = 0;
    const reports: DrillReport[] = [];
    const drill =
      (env: NodeJS.ProcessEnv, keep: boolean, engine = 'local') =>
      async () => {
        const m = await measure(
          process.execPath,
          [CLI, '-q', 'drill', '--from', dest, '--engine', engine, '--identity-file', keyFile],
          env,
        );
        if (keep) {
          const latest = readdirSync(join(dest, 'drill_logs'))
            .filter((f) => f.endsWith('.json'))
            .sort()
            .pop()!;
          reports.push(JSON.parse(readFileSync(join(dest, 'drill_logs', latest), 'utf8')) as DrillReport);
        }
        return m;
      };
    // The same drill with TMPDIR in RAM, when there is room: the scratch dump and the throwaway
    // server's files on tmpfs, i.e. without the file system's cost of creating and deleting the
    // thousand-odd files of an initdb and a restore (see the note under the table).
    const shm = tmpfsRoom(manifest.dump.bytes * 12);
    const variants: Record<string, () => Promise<Measured>> = {
      'naive: createdb + pg_restore -j1 + count(*) (plaintext, server already running)': async () => {
        const name = `naive_${n++}`;
        const script = `createdb ${name} && pg_restore -j1 --no-owner --no-privileges -d ${name} "${plain}" && psql -q -At -d ${name} -c '${counts}' > /dev/null && dropdb ${name}`;
        return measure('sh', ['-c', script], db.env);
      },
      'lms-backup drill (verify, decrypt, own server, restore, validate, teardown)': drill(process.env, true),
    };
    if (shm) variants[SHM] = drill({ ...process.env, TMPDIR: shm.path }, false);
    // The engine a runner with Docker gets (engine auto), when the major's image is here already
    // (no pull inside a timed run); no reaper container: lms-backup removes its own.
    const image = `postgres:${majorOfVersionNum(manifest.source.serverVersionNum)}`;
    if (await dockerImageExists(image)) {
      variants[`${DOCKER} (${image})`] = drill(
        { ...process.env, TESTCONTAINERS_RYUK_DISABLED: 'true' },
        false,
        'docker',
      );
    }
    const r = await alternate(runs, variants).finally(() => shm?.remove());
    const keys2 = Object.keys(r);
    const runsOf = (k: string) => r[k] ?? [];
    const medianOf = (k: string | undefined) =>
      k === undefined ? undefined : median(runsOf(k).map((m) => m.seconds));
    const [naive, ours] = keys2.map((k) => median(runsOf(k).map((m) => m.seconds))) as [number, number];
    const inRam = medianOf(keys2.find((k) => k === SHM));
    const inDocker = medianOf(keys2.find((k) => k.startsWith(DOCKER)));
    // download = the one pass (download, checksum, decryption, decompression); start = the wait
    // for the server that is left after it (it starts during the download).
    const phases = ['download', 'decrypt', 'offsets', 'list', 'start', 'restore', 'validate', 'teardown'];
    const phaseRows = phases.map((p) => [
      p,
      (median(reports.map((x) => x.phases[p] ?? 0)) / 1000).toFixed(2),
    ]);
    return [
      `### Drill (${(manifest.dump.bytes / 1024 / 1024).toFixed(0)} MiB dump, ${manifest.inventory.totalRows} rows; median of ${runs} alternating runs)`,
      '',
      table(
        ['variant', 'median s', 'peak RSS MiB'],
        keys2.map((k) => [
          k,
          median(runsOf(k).map((m) => m.seconds)).toFixed(2),
          Math.max(...runsOf(k).map((m) => m.peakRssMiB)).toFixed(0),
        ]),
      ),
      '',
      `- drill / naive baseline: **${(ours / naive).toFixed(2)}x** the time (target <= 0.70: ${ours / naive <= 0.7 ? 'met' : '**missed**'}), while also proving the checksum, the decryption and every exact row count, on its own server started during the download`,
      inRam === undefined
        ? '- no tmpfs row: /dev/shm is not a tmpfs with room for the restore'
        : `- the same drill with TMPDIR on tmpfs: **${(inRam / naive).toFixed(2)}x**: what the disk costs it here (a journaled ext4, as on GitHub's runners, creates an initdb's files as fast as tmpfs; this machine's root file system has no journal, and ext4 then passes over every inode freed in the last minutes when it allocates one, so each drill's initdb gets slower after the last drill's files were deleted)`,
      inDocker === undefined
        ? "- no docker row: no Docker engine answers, or the backup's major has no local postgres image"
        : `- the same drill on the docker engine (what \`engine: auto\` picks where Docker answers): **${(inDocker / naive).toFixed(2)}x**`,
      `- backup compression: ${manifest.dump.outerCompression ? `${manifest.dump.outerCompression} outside a -Z0 archive` : manifest.dump.compression}`,
      '',
      'Drill phases (median seconds):',
      '',
      table(['phase', 's'], phaseRows),
      '',
    ].join('\n');
  } finally {
    work.remove();
    if (!opts.db) await db.server.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(`${await benchDrill()}\n`);
  process.exit(0);
}
