import { describe, expect, it } from 'vitest';
import type { DrillReport } from '../../src/catalog/types.js';
import { PgVersionMismatchError } from '../../src/errors.js';
import { containerRunArgs, toolImageCandidates } from '../../src/postgres/exec.js';
import {
  candidateBinDirs,
  findAllTools,
  parseToolMode,
  resolvePgRestore,
  resolvePgTool,
  type ToolHost,
  type ToolInfo,
} from '../../src/postgres/tools.js';
import { renderDrillReportMarkdown } from '../../src/report/markdown.js';

/** A file system of `files` (binaries with the version each prints), on `platform`. */
function fakeHost(platform: NodeJS.Platform, files: Record<string, string>): ToolHost {
  const sep = platform === 'win32' ? '\\' : '/';
  return {
    platform,
    exists: (p) => p in files,
    readdir: (dir) => {
      const prefix = dir.endsWith(sep) ? dir : dir + sep;
      const names = new Set<string>();
      for (const f of Object.keys(files))
        if (f.startsWith(prefix)) names.add(f.slice(prefix.length).split(sep)[0]!);
      return [...names];
    },
    version: async (p): Promise<ToolInfo | null> => {
      const v = files[p];
      if (!v) return null;
      return { path: p, version: v, major: Number(v.split('.')[0]) };
    },
  };
}

describe('where pg tools are looked for', () => {
  it('Windows: C:\\Program Files\\PostgreSQL\\<major>\\bin with .exe, newest first', async () => {
    const host = fakeHost('win32', {
      'C:\\Program Files\\PostgreSQL\\16\\bin\\pg_dump.exe': '16.4',
      'C:\\Program Files\\PostgreSQL\\17\\bin\\pg_dump.exe': '17.2',
    });
    const env = { Path: 'C:\\Windows\\system32', ProgramFiles: 'C:\\Program Files' };
    expect(candidateBinDirs(env, host)).toEqual([
      'C:\\Windows\\system32',
      'C:\\Program Files\\PostgreSQL\\17\\bin',
      'C:\\Program Files\\PostgreSQL\\16\\bin',
    ]);
    const tools = await findAllTools('pg_dump', env, host);
    expect(tools.map((t) => t.path)).toEqual([
      'C:\\Program Files\\PostgreSQL\\17\\bin\\pg_dump.exe',
      'C:\\Program Files\\PostgreSQL\\16\\bin\\pg_dump.exe',
    ]);
    const chosen = await resolvePgTool('pg_dump', 16, 'a PostgreSQL 16.4 server', {
      env,
      host,
      mode: 'local',
    });
    expect(chosen.path).toBe('C:\\Program Files\\PostgreSQL\\16\\bin\\pg_dump.exe');
  });

  it('macOS: Homebrew (Apple silicon and Intel) and Postgres.app', () => {
    const host = fakeHost('darwin', {
      '/opt/homebrew/opt/postgresql@17/bin/pg_dump': '17.2',
      '/opt/homebrew/opt/postgresql@15/bin/pg_dump': '15.8',
      '/usr/local/opt/postgresql@16/bin/pg_dump': '16.4',
      '/Applications/Postgres.app/Contents/Versions/18/bin/pg_dump': '18.1',
    });
    expect(candidateBinDirs({ PATH: '/usr/bin:/bin' }, host)).toEqual([
      '/usr/bin',
      '/bin',
      '/opt/homebrew/opt/postgresql@17/bin',
      '/opt/homebrew/opt/postgresql@15/bin',
      '/usr/local/opt/postgresql@16/bin',
      '/Applications/Postgres.app/Contents/Versions/18/bin',
    ]);
  });

  it('Linux: PG_BINDIR first, then PATH, then /usr/lib/postgresql/<major>/bin', () => {
    const host = fakeHost('linux', {
      '/usr/lib/postgresql/15/bin/pg_dump': '15.8',
      '/usr/lib/postgresql/17/bin/pg_dump': '17.2',
    });
    expect(candidateBinDirs({ PG_BINDIR: '/opt/pg/bin', PATH: '/usr/bin' }, host)).toEqual([
      '/opt/pg/bin',
      '/usr/bin',
      '/usr/lib/postgresql/17/bin',
      '/usr/lib/postgresql/15/bin',
    ]);
  });

  it('Debian: pg_wrapper and the merged-/usr symlinks are passed over, each real binary asked once', async () => {
    const files = {
      '/usr/bin/pg_dump': 'wrapper',
      '/bin/pg_dump': 'wrapper',
      '/usr/local/bin/pg_dump': 'link',
      '/usr/lib/postgresql/15/bin/pg_dump': '15.8',
      '/usr/lib/postgresql/17/bin/pg_dump': '17.2',
    };
    const asked: string[] = [];
    const base = fakeHost('linux', files);
    const host = {
      ...base,
      realpath: (p: string) =>
        ({
          '/usr/bin/pg_dump': '/usr/share/postgresql-common/pg_wrapper',
          '/bin/pg_dump': '/usr/share/postgresql-common/pg_wrapper',
          '/usr/local/bin/pg_dump': '/usr/lib/postgresql/17/bin/pg_dump',
        })[p] ?? p,
      version: (p: string) => {
        asked.push(p);
        return base.version(p);
      },
    };
    const env = { PATH: '/usr/local/bin:/usr/bin:/bin' };
    const tools = await findAllTools('pg_dump', env, host);
    expect(tools.map((t) => t.path)).toEqual([
      '/usr/lib/postgresql/17/bin/pg_dump',
      '/usr/lib/postgresql/15/bin/pg_dump',
    ]);
    expect(asked.sort()).toEqual([
      '/usr/lib/postgresql/15/bin/pg_dump',
      '/usr/lib/postgresql/17/bin/pg_dump',
    ]);
    const chosen = await resolvePgTool('pg_dump', 15, 'a PostgreSQL 15.8 server', {
      env,
      host,
      mode: 'local',
    });
    expect(chosen.path).toBe('/usr/lib/postgresql/15/bin/pg_dump');
  });

  it('prefers the same major, then the nearest newer one; pg_restore by the archive version', async () => {
    const host = fakeHost('linux', {
      '/usr/lib/postgresql/15/bin/pg_restore': '15.8',
      '/usr/lib/postgresql/17/bin/pg_restore': '17.2',
      '/usr/lib/postgresql/18/bin/pg_restore': '18.1',
    });
    const t = await resolvePgRestore('16.4', { env: { PATH: '' }, host, mode: 'local' });
    expect(t.path).toBe('/usr/lib/postgresql/17/bin/pg_restore');
  });

  it('local only: the old error, naming the tool found and the fix', async () => {
    const host = fakeHost('linux', { '/usr/lib/postgresql/15/bin/pg_dump': '15.8' });
    const error = await resolvePgTool('pg_dump', 17, 'a PostgreSQL 17.2 server', {
      env: { PATH: '' },
      host,
      mode: 'local',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PgVersionMismatchError);
    expect((error as Error).message).toMatch(/pg_dump 15\.8 .* cannot dump a PostgreSQL 17\.2 server/);
  });

  it('images: the configured template, else ours, then the official one', () => {
    expect(toolImageCandidates(17)).toEqual(['lms-backup/postgres:17', 'postgres:17']);
    expect(toolImageCandidates(18, 'myreg/pg:{major}-alpine')).toEqual(['myreg/pg:18-alpine']);
    expect(parseToolMode(undefined)).toBe('auto');
    expect(() => parseToolMode('docker')).toThrow(/LMS_PG_TOOLS must be auto, local or container/);
  });
});

describe('the report of a drill that started no server', () => {
  it('says so, and shows no zero-of-zero checks', () => {
    const report: DrillReport = {
      format: 'lms-backup/drill-report@1',
      id: 'drill_20260101_000000',
      backupId: 'lms_20260101_000000',
      backupCreatedAt: '2026-01-01T00:00:00.000Z',
      startedAt: '2026-01-01T00:00:01.000Z',
      finishedAt: '2026-01-01T00:00:05.000Z',
      verdict: 'fail',
      reasons: ['no throwaway PostgreSQL 17 started, so nothing was restored: ...'],
      checksum: { expected: 'a'.repeat(64), actual: 'a'.repeat(64), ok: true },
      decryption: { scheme: 'age', ok: true },
      engine: {
        kind: 'none',
        requested: 'auto',
        description: 'not started (engine auto)',
        serverVersion: null,
        fallbacks: [
          'Docker: no Docker engine answers',
          'local: no local PostgreSQL server binaries of major 17 found',
        ],
      },
      tools: { pgRestore: { version: '17.12', where: 'container', image: 'postgres:17' } },
      restore: { ok: false, jobs: 2, errors: [] },
      tableCount: { min: 8, found: null, ok: false },
      tables: [],
      extensions: [],
      checks: [],
      phases: {},
      rto: { objectiveSeconds: 14400, measuredSeconds: 1, ok: true },
      rpo: { objectiveSeconds: 86400, backupAgeSeconds: 5, ok: true },
    } as DrillReport;
    const md = renderDrillReportMarkdown(report);
    expect(md).toMatch(
      /Throwaway server: \*\*none started\*\* \(engine auto\): nothing was restored or validated/,
    );
    expect(md).toMatch(/tried: Docker: no Docker engine answers/);
    expect(md).toMatch(/tried: local: no local PostgreSQL server binaries of major 17 found/);
    expect(md).toMatch(/pg_restore 17\.12 in a container from `postgres:17`/);
    expect(md).toMatch(/\| Restore \| — \| not run: no throwaway server started \|/);
    expect(md).toMatch(/\| Row counts \| — \| not run: no throwaway server started \|/);
    expect(md).not.toMatch(/0 error\(s\)/);
    expect(md).not.toMatch(/0\/0/);
  });
});

describe('a pg tool in a container', () => {
  it('mounts the files it reads and a socket directory, passes PG* by name only', () => {
    const args = containerRunArgs(
      'lms-backup-tool-x',
      { path: 'pg_restore', version: '17.12', major: 17, image: 'postgres:17' },
      ['--dbname', 'lms', '--no-password', '/tmp/lms-drill-1/lms.dump'],
      {
        env: { PGHOST: '/run/pg sock', PGPASSWORD: 'hunter2-secret', PGUSER: 'postgres', HOME: '/root' },
        files: ['/tmp/lms-drill-1/lms.dump'],
      },
    );
    expect(args.join(' ')).not.toContain('hunter2-secret');
    expect(args).toEqual(expect.arrayContaining(['--network', 'host', '--entrypoint', 'pg_restore']));
    // The engine keeps no log of what the tool writes (a dump's bytes, for pg_dump).
    expect(args.join(' ')).toContain(' --log-driver none ');
    const envs = args.flatMap((a, i) => (a === '-e' ? [args[i + 1]] : []));
    expect(envs).toEqual(['PGHOST', 'PGPASSWORD', 'PGUSER']);
    const mounts = args.flatMap((a, i) => (a === '-v' ? [args[i + 1]] : []));
    expect(mounts).toEqual(['/run/pg sock:/run/pg sock', '/tmp/lms-drill-1/lms.dump:/backup/0-lms.dump:ro']);
    expect(args.slice(-5)).toEqual(['postgres:17', '--dbname', 'lms', '--no-password', '/backup/0-lms.dump']);
  });
});
