import {
  DRILL_REPORT_FORMAT,
  type DrillReport,
  MANIFEST_FORMAT_V1,
  type Manifest,
  RUN_RECORD_FORMAT,
  type RunRecord,
} from '../../src/catalog/types.js';

export const HOUR = 3600_000;
export const DAY = 86_400_000;

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** `lms_YYYYMMDD_HHmmss` for a time. */
export function backupId(ms: number): string {
  const s = iso(ms);
  return `lms_${s.slice(0, 10).replace(/-/g, '')}_${s.slice(11, 19).replace(/:/g, '')}`;
}

export function makeManifest(createdAtMs: number, overrides: Partial<Manifest> = {}): Manifest {
  const id = overrides.id ?? backupId(createdAtMs);
  return {
    format: MANIFEST_FORMAT_V1, // the old format: still read
    id,
    createdAt: iso(createdAtMs),
    completedAt: iso(createdAtMs + 90_000),
    source: {
      host: 'db.example',
      port: 5432,
      database: 'lms',
      user: 'backup',
      serverVersion: '15.8',
      serverVersionNum: 150008,
    },
    tool: { name: 'lms-backup', version: '0.1.0', pgDumpVersion: '15.8' },
    dump: {
      format: 'custom',
      compression: 'gzip:1',
      bytes: 2_000_000,
      sha256: 'a'.repeat(64),
      durationMs: 60_000,
    },
    object: {
      key: `db/${id}.dump.age`,
      bytes: 1_000_000,
      sha256: 'b'.repeat(64),
      sidecarKey: `db/${id}.dump.age.sha256`,
    },
    encryption: { scheme: 'age', recipients: ['age1example'], passphrase: false },
    inventory: {
      tables: [{ schema: 'public', name: 'users', rows: 10 }],
      extensions: [],
      schemaFingerprint: 'c'.repeat(64),
      tableCount: 1,
      totalRows: 10,
    },
    ...overrides,
  };
}

export function makeRun(
  command: RunRecord['command'],
  startedAtMs: number,
  overrides: Partial<RunRecord> = {},
): RunRecord {
  const durationMs = overrides.durationMs ?? 120_000;
  return {
    format: RUN_RECORD_FORMAT,
    id: `run_${backupId(startedAtMs).slice(4)}_${command}_${Math.floor((startedAtMs / 1000) % 65536)
      .toString(16)
      .padStart(4, '0')}`,
    command,
    startedAt: iso(startedAtMs),
    finishedAt: iso(startedAtMs + durationMs),
    status: 'success',
    durationMs,
    warnings: [],
    ...overrides,
  };
}

/** A successful backup run with the matching manifest. */
export function makeBackup(createdAtMs: number, bytes = 1_000_000): { run: RunRecord; manifest: Manifest } {
  const manifest = makeManifest(createdAtMs, {});
  manifest.object.bytes = bytes;
  const run = makeRun('backup', createdAtMs, { backupId: manifest.id, bytes });
  return { run, manifest };
}

export function makeDrill(
  startedAtMs: number,
  backup: string,
  overrides: Partial<DrillReport> & { recoverySeconds?: number } = {},
): DrillReport {
  const { recoverySeconds = 180, ...rest } = overrides;
  const verdict = rest.verdict ?? 'pass';
  const s = iso(startedAtMs);
  return {
    format: DRILL_REPORT_FORMAT,
    id: `drill_${s.slice(0, 10).replace(/-/g, '')}_${s.slice(11, 19).replace(/:/g, '')}`,
    backupId: backup,
    backupCreatedAt: iso(startedAtMs - DAY),
    startedAt: s,
    finishedAt: iso(startedAtMs + recoverySeconds * 1000 + 5000),
    verdict,
    reasons: verdict === 'pass' ? [] : ['Table public.users has 9 rows; the manifest says 10.'],
    checksum: { expected: 'b'.repeat(64), actual: 'b'.repeat(64), ok: true },
    decryption: { scheme: 'age', ok: true },
    engine: { kind: 'local', description: 'PostgreSQL 15 (local binaries)', serverVersion: '15.8' },
    restore: { ok: true, jobs: 2, errors: [] },
    tableCount: { min: 8, found: 9, ok: true },
    tables: [
      {
        schema: 'public',
        name: 'users',
        expected: 10,
        found: verdict === 'pass' ? 10 : 9,
        ok: verdict === 'pass',
      },
    ],
    extensions: [],
    checks: [],
    phases: { download: 1000, decrypt: 500, restore: recoverySeconds * 1000 - 2000, validate: 500 },
    rto: { objectiveSeconds: 14_400, measuredSeconds: recoverySeconds, ok: recoverySeconds <= 14_400 },
    rpo: { objectiveSeconds: 86_400, backupAgeSeconds: 86_400, ok: true },
    ...rest,
  };
}

/**
 * A month of realistic history ending at `nowMs` (a 10:00 UTC): daily 02:00 backups of a growing
 * database, one failed night, one late run, weekly Sunday drills of which one failed.
 */
export function demoHistory(nowMs: number): {
  runs: RunRecord[];
  manifests: Manifest[];
  drills: DrillReport[];
} {
  let seed = 42;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const runs: RunRecord[] = [];
  const manifests: Manifest[] = [];
  const drills: DrillReport[] = [];
  const today = Math.floor(nowMs / DAY) * DAY;
  for (let i = 40; i >= 0; i--) {
    const day = today - i * DAY;
    const weekday = new Date(day).getUTCDay();
    if (i === 19) {
      runs.push(
        makeRun('backup', day + 2 * HOUR, {
          status: 'failure',
          durationMs: 31_000,
          reason: 'pg_dump: error: connection to server failed: FATAL: too many connections',
        }),
      );
      continue;
    }
    const start = day + 2 * HOUR + (i === 12 ? 6.5 * HOUR : Math.round(rand() * 120) * 1000);
    const bytes = Math.round((180 + (40 - i) * 0.9 + rand() * 6) * 1024 * 1024);
    const durationMs = Math.round((240 + (40 - i) * 1.5 + rand() * 60) * 1000);
    const m = makeManifest(start);
    m.object.bytes = bytes;
    m.completedAt = iso(start + durationMs);
    manifests.push(m);
    runs.push(makeRun('backup', start, { backupId: m.id, bytes, durationMs }));
    if (weekday === 0) {
      const drillStart = day + 3 * HOUR + 30 * 60_000;
      const fail = i === 17;
      const recoverySeconds = Math.round(1300 + (40 - i) * 8 + rand() * 200);
      const d = makeDrill(
        drillStart,
        m.id,
        fail ? { verdict: 'fail', recoverySeconds } : { recoverySeconds },
      );
      d.backupCreatedAt = m.createdAt;
      drills.push(d);
      runs.push(
        makeRun('drill', drillStart - 1000, {
          status: fail ? 'failure' : 'success',
          backupId: m.id,
          durationMs: recoverySeconds * 1000 + 20_000,
          details: { drillId: d.id },
        }),
      );
    }
  }
  return { runs, manifests, drills };
}
