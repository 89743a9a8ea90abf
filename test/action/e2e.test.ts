/**
 * End to end through the committed bundles: `node dist/<step>/index.js` as the runner starts it,
 * under Node 20 and Node 24, against a real PostgreSQL. Backup, then a drill on the local
 * engine, then the drill's post step; outputs, summaries, exit codes, and no secret anywhere a
 * person can see it. Run `npm run build` first: these test dist/, not src/.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { generateIdentity } from '../../src/crypto/age.js';
import { RUN_ID_LABEL } from '../../src/engines/docker.js';
import { dockerTestMode } from '../helpers/docker.js';
import { type SourceDb, startSourceDb, tempDir } from '../helpers/pg.js';
import {
  nodeBinaries,
  ROOT,
  removeRunDirs,
  runDistStep,
  type StepRun,
  snapshotDist,
  visible,
} from './helpers.js';

let src: SourceDb;
const keys = generateIdentity();
const passphrase = `pp-${randomBytes(18).toString('base64url')}`;
const dirs: { remove(): void }[] = [];
const timings: string[] = [];

let removeSnapshot: (() => void) | undefined;

beforeAll(async () => {
  removeSnapshot = await snapshotDist();
  src = await startSourceDb(1);
});
afterAll(async () => {
  await src?.stop();
  removeSnapshot?.();
  removeRunDirs();
  for (const d of dirs) d.remove();
  if (timings.length) process.stderr.write(`action e2e timings:\n${timings.map((t) => `  ${t}\n`).join('')}`);
});

function workspace(): string {
  const d = tempDir('lms-action-ws-');
  dirs.push(d);
  return d.path;
}

function password(): string {
  return src.conn.password!;
}

/** The secrets of a run must never be visible: only in ::add-mask:: commands the runner eats. */
function expectNoSecrets(run: StepRun, secrets: string[]): void {
  const seen = visible(run);
  for (const s of secrets)
    expect(seen.includes(s), `a secret is visible in the ${s.slice(0, 4)}… run`).toBe(false);
}

function time(label: string, run: StepRun): StepRun {
  timings.push(`${label}: ${run.ms} ms`);
  return run;
}

const variants = [
  {
    name: 'database-url with a password, age recipients, identity',
    backupInputs: (_ws: string) => ({
      'database-url': `postgresql://postgres:${encodeURIComponent(password())}@127.0.0.1:${src.conn.port}/lms`,
      recipients: keys.recipient,
    }),
    backupEnv: {} as NodeJS.ProcessEnv,
    drillInputs: { identity: keys.identity } as Record<string, string>,
    secrets: () => [password(), keys.identity],
    backupMasks: () => [password()],
  },
  {
    name: 'PG* environment, passphrase',
    backupInputs: (_ws: string) => ({ passphrase }),
    backupEnv: {} as NodeJS.ProcessEnv,
    drillInputs: { passphrase } as Record<string, string>,
    secrets: () => [password(), passphrase],
    backupMasks: () => [password(), passphrase],
  },
];

describe.each(nodeBinaries())('dist bundles on $label', ({ label, path: node }) => {
  describe.each(variants)('$name', (variant) => {
    it('backs up, drills the backup, and cleans up after it', async () => {
      const ws = workspace();
      const pgEnv = variant.name.startsWith('PG*')
        ? {
            PGHOST: '127.0.0.1',
            PGPORT: String(src.conn.port),
            PGUSER: 'postgres',
            PGDATABASE: 'lms',
            PGPASSWORD: password(),
          }
        : {};

      // backup, into the default destination "backups" relative to the workspace
      const backup = time(
        `${label} backup (${variant.name})`,
        await runDistStep(node, 'backup', {
          cwd: ws,
          inputs: variant.backupInputs(ws),
          env: { ...variant.backupEnv, ...pgEnv },
        }),
      );
      expect(backup.errors, backup.stdout).toEqual([]);
      expect(backup.code, backup.stderr).toBe(0);
      const out = backup.outputs;
      expect(Object.keys(out).sort()).toEqual([
        'backup-id',
        'bytes',
        'duration-seconds',
        'object-key',
        'sha256',
      ]);
      expect(out['backup-id']).toMatch(/^lms_\d{8}_\d{6}(_\d+)?$/);
      expect(out['object-key']).toBe(`db/${out['backup-id']}.dump.age`);
      const stored = join(ws, 'backups', out['object-key']!);
      expect(statSync(stored).size).toBe(Number(out.bytes));
      expect(createHash('sha256').update(readFileSync(stored)).digest('hex')).toBe(out.sha256);
      expect(readFileSync(`${stored}.sha256`, 'utf8')).toContain(out.sha256!);
      expect(Number(out['duration-seconds'])).toBeGreaterThan(0);
      expect(existsSync(join(ws, 'backups', 'db', `${out['backup-id']}.manifest.json`))).toBe(true);
      // the summary: what, where, size, checksum, duration
      expect(backup.summary).toContain(`Backup \`${out['backup-id']}\` complete`);
      expect(backup.summary).toContain('`lms` on `127.0.0.1:');
      expect(backup.summary).toContain(join(ws, 'backups'));
      expect(backup.summary).toContain(out.sha256);
      expect(backup.summary).toContain('| Size check | no earlier complete backups to compare with |');
      expect(backup.summary).toContain('| Duration |');
      // one log group per phase
      expect(backup.stdout).toContain('::group::dump, checksum and encrypt');
      expect(backup.stdout).toContain('::group::store');
      for (const s of variant.backupMasks()) expect(backup.stdout).toContain(`::add-mask::${s}`);
      expectNoSecrets(backup, variant.secrets());

      // a second backup compares its size with the first
      const second = await runDistStep(node, 'backup', {
        cwd: ws,
        inputs: variant.backupInputs(ws),
        env: { ...variant.backupEnv, ...pgEnv },
      });
      expect(second.code, second.stdout).toBe(0);
      expect(second.outputs['backup-id']).not.toBe(out['backup-id']);
      expect(second.summary).toMatch(
        /\| Size check \| ✅ \d+% of the median .* of recent complete backups \|/,
      );

      // every run leaves a record
      const runs = readdirSync(join(ws, 'backups', 'runs'));
      expect(runs.filter((r) => /^run_\d{8}_\d{6}_backup_/.test(r))).toHaveLength(2);

      // the drill, on the local engine
      const drill = time(
        `${label} drill (${variant.name})`,
        await runDistStep(node, 'drill', {
          cwd: ws,
          inputs: { ...variant.drillInputs, engine: 'local', backup: out['backup-id']! },
        }),
      );
      expect(drill.errors, drill.stdout).toEqual([]);
      expect(drill.code, `${drill.stdout}\n${drill.stderr}`).toBe(0);
      const d = drill.outputs;
      expect(d.passed).toBe('true');
      expect(d.verdict).toBe('pass');
      expect(Number(d.tables)).toBeGreaterThanOrEqual(8);
      expect(Number(d.rows)).toBeGreaterThan(1000);
      expect(Number(d['recovery-seconds'])).toBeGreaterThan(0);
      const report = JSON.parse(readFileSync(d['report-path']!, 'utf8'));
      expect(report.backupId).toBe(out['backup-id']);
      expect(report.verdict).toBe('pass');
      expect(existsSync(d['report-path']!.replace(/\.json$/, '.md'))).toBe(true);
      expect(readdirSync(join(ws, 'backups', 'drill_logs')).sort()).toEqual([
        `${report.id}.json`,
        `${report.id}.md`,
      ]);
      // the summary: verdict, every table expected vs found, checks, phase times, RTO and RPO
      expect(drill.summary).toContain('PASS');
      expect(drill.summary).toContain('| `public.users` |');
      expect(drill.summary).toContain('### Phase times');
      expect(drill.summary).toMatch(/against an RTO of 4 h/);
      expect(drill.summary).toMatch(/against an RPO of 24 h/);
      expect(drill.stdout).toContain('::group::pg_restore');
      // outside a runner the artifact upload is skipped, cleanly
      expect(drill.stdout).toContain('::debug::not running on a GitHub Actions runner');
      expect(drill.stdout).not.toContain('::warning::');
      expectNoSecrets(drill, variant.secrets());

      if (variant.name.startsWith('database-url')) {
        // verify (no database) and restore into a new database on the same server
        const verify = time(
          `${label} verify`,
          await runDistStep(node, 'verify', { cwd: ws, inputs: { ...variant.drillInputs } }),
        );
        expect(verify.code, `${verify.stdout}\n${verify.stderr}`).toBe(0);
        expect(verify.outputs).toEqual({ ok: 'true', 'backup-id': second.outputs['backup-id'] });
        expect(verify.summary).toContain(`Backup \`${second.outputs['backup-id']}\` verified`);
        expectNoSecrets(verify, variant.secrets());

        const target = `restored_${randomBytes(3).toString('hex')}`;
        const restore = time(
          `${label} restore`,
          await runDistStep(node, 'restore', {
            cwd: ws,
            inputs: {
              ...variant.drillInputs,
              backup: out['backup-id']!,
              'target-url': `postgresql://postgres:${encodeURIComponent(password())}@127.0.0.1:${src.conn.port}/${target}`,
            },
          }),
        );
        expect(restore.code, `${restore.stdout}\n${restore.stderr}`).toBe(0);
        expect(restore.outputs).toMatchObject({
          ok: 'true',
          'backup-id': out['backup-id'],
          restored: 'true',
          mode: 'full',
        });
        expect(restore.summary).toContain(`Restored \`${out['backup-id']}\``);
        expect(restore.summary).toContain(target);
        expectNoSecrets(restore, variant.secrets());
      }

      if (variant.name.startsWith('PG*')) {
        // prune (dry run) and the readiness report read what the runs above left
        const prune = time(
          `${label} prune`,
          await runDistStep(node, 'prune', { cwd: ws, inputs: { 'dry-run': 'true' } }),
        );
        expect(prune.code, `${prune.stdout}\n${prune.stderr}`).toBe(0);
        expect(prune.outputs).toEqual({ removed: '0', kept: '2', 'deleted-objects': '0' });
        expect(prune.summary).toContain('dry run: nothing deleted');

        const report = time(
          `${label} report`,
          await runDistStep(node, 'report', { cwd: ws, inputs: { 'fail-on': 'stale,drill' } }),
        );
        expect(report.code, `${report.stdout}\n${report.stderr}`).toBe(0);
        expect(report.outputs['failed-conditions']).toBe('');
        expect(['ready', 'at-risk']).toContain(report.outputs.status);
        expect(existsSync(report.outputs['html-path']!)).toBe(true);
        expect(report.summary).toContain('DR readiness');
        expectNoSecrets(report, variant.secrets());

        // the watchdog fails where nothing was ever backed up
        const empty = await runDistStep(node, 'report', {
          cwd: ws,
          inputs: { destinations: join(ws, 'nothing-here'), 'fail-on': 'stale' },
        });
        expect(empty.code).toBe(1);
        expect(empty.errors).toEqual([expect.stringContaining('DR readiness watchdog: stale')]);
      }

      // the post step: nothing left behind by a drill that finished
      expect(drill.state['work-root']).toBeTruthy();
      expect(existsSync(drill.state['work-root']!)).toBe(false);
      const post = await runDistStep(node, 'drill-post', {
        cwd: ws,
        metadataOf: 'drill',
        state: drill.state,
        inputs: { ...variant.drillInputs, engine: 'local' },
      });
      expect(post.code, post.stdout).toBe(0);
      expect(post.errors).toEqual([]);
      expectNoSecrets(post, variant.secrets());
    });
  });

  it('reports every wrong input of a step together, in one error', async () => {
    const ws = workspace();
    const backup = await runDistStep(node, 'backup', {
      cwd: ws,
      inputs: {
        'database-url': `postgresql://postgres:${encodeURIComponent(password())}@127.0.0.1:${src.conn.port}/lms`,
        compression: 'brotli',
        prefix: 'no spaces please',
      },
    });
    expect(backup.code).toBe(1);
    expect(backup.errors).toHaveLength(1);
    const message = backup.errors[0]!;
    expect(message).toContain('3 configuration problems');
    expect(message).toContain('compression "brotli" is not a compression setting');
    expect(message).toContain('no encryption key: set recipients');
    expect(message).toContain('prefix "no spaces please"');
    expect(backup.summary).toContain('Backup failed');
    expect(backup.summary).toContain('compression "brotli"');
    expect(existsSync(join(ws, 'backups'))).toBe(false);
    expectNoSecrets(backup, [password()]);

    const drill = await runDistStep(node, 'drill', {
      cwd: ws,
      inputs: {
        'min-tables': 'many',
        engine: 'warp',
        rto: 'soon',
        'upload-report': 'yes',
        identity: keys.identity,
      },
    });
    expect(drill.code).toBe(1);
    expect(drill.errors).toHaveLength(1);
    for (const part of [
      // The four bad inputs, and the default source "backups", which does not exist here.
      '5 configuration problems',
      'backups does not exist',
      'min-tables must be a whole number >= 0 (got "many")',
      'engine must be auto, docker or local (got "warp")',
      'rto "soon" is not a duration',
      'upload-report must be true or false (got "yes")',
    ]) {
      expect(drill.errors[0]).toContain(part);
    }
    expect(drill.summary).toContain('Restore drill did not run');
    expectNoSecrets(drill, [keys.identity]);
  });
});

describe('the PR-check flow (.github/workflows/pr-check.yml) on the example schema', () => {
  it('seeds with psql, backs up with a throwaway passphrase, and drills with the example checks', async () => {
    const node = nodeBinaries()[0]!.path;
    const ws = workspace();
    const db = `app_${randomBytes(3).toString('hex')}`;
    const env = {
      PGHOST: '127.0.0.1',
      PGPORT: String(src.conn.port),
      PGUSER: 'postgres',
      PGPASSWORD: password(),
    };
    execFileSync('psql', ['-v', 'ON_ERROR_STOP=1', '-q', '-d', 'postgres', '-c', `CREATE DATABASE ${db}`], {
      env: { ...process.env, ...env },
    });
    execFileSync(
      'psql',
      ['-v', 'ON_ERROR_STOP=1', '-q', '-d', db, '-f', join(ROOT, 'examples', 'pr-check', 'schema.sql')],
      {
        env: { ...process.env, ...env },
      },
    );
    const secret = randomBytes(32).toString('hex');
    const dest = join(ws, 'pr-check');
    // The workflow checks the setup first: every check green (or skipped: no backup yet).
    const check = await runDistStep(node, 'check', {
      cwd: ws,
      inputs: { destinations: dest, passphrase: secret, engine: 'local' },
      env: { ...env, DATABASE_URL: `postgresql://postgres@127.0.0.1:${src.conn.port}/${db}` },
    });
    expect(check.code, `${check.stdout}\n${check.stderr}`).toBe(0);
    expect(check.outputs.ok).toBe('true');
    expect(check.summary).toMatch(
      /identity decrypts the newest backup's header \| – \| no complete backup yet/,
    );
    expectNoSecrets(check, [secret, password()]);
    const backup = await runDistStep(node, 'backup', {
      cwd: ws,
      inputs: { destinations: dest, passphrase: secret },
      env: { ...env, DATABASE_URL: `postgresql://postgres@127.0.0.1:${src.conn.port}/${db}` },
    });
    expect(backup.code, backup.stdout).toBe(0);
    const drill = await runDistStep(node, 'drill', {
      cwd: ROOT,
      inputs: {
        from: dest,
        backup: backup.outputs['backup-id']!,
        passphrase: secret,
        engine: 'local',
        'min-tables': '8',
        checks: 'examples/pr-check/checks.json',
      },
    });
    expect(drill.code, `${drill.stdout}\n${drill.stderr}`).toBe(0);
    expect(drill.outputs.tables).toBe('8');
    expect(drill.summary).toContain('Health check: there is an admin');
    expectNoSecrets(drill, [secret, password()]);
  });
});

describe('drill post step', () => {
  const node = nodeBinaries()[0]!.path;

  it('stops the throwaway server and removes the work directory of a drill that was killed', async () => {
    const ws = workspace();
    const backup = await runDistStep(node, 'backup', {
      cwd: ws,
      inputs: { passphrase },
      env: {
        PGHOST: '127.0.0.1',
        PGPORT: String(src.conn.port),
        PGUSER: 'postgres',
        PGDATABASE: 'lms',
        PGPASSWORD: password(),
      },
    });
    expect(backup.code, backup.stdout).toBe(0);

    let postmaster: number | undefined;
    let workRoot: string | undefined;
    // A temp directory of its own: every drill sweeps its temp directory for killed drills'
    // debris first, so a drill of another test running meanwhile would stop this server itself.
    const tmp = mkdtempSync(join(tmpdir(), 'lms-killed-drill-tmp-'));
    chmodSync(tmp, 0o755); // like /tmp: the server's own user must reach its data directory
    onTestFinished(() => rmSync(tmp, { recursive: true, force: true }));
    const drill = await runDistStep(node, 'drill', {
      cwd: ws,
      env: { TMPDIR: tmp },
      inputs: { passphrase, engine: 'local' },
      onSpawn: (child, dir) => {
        // Kill the drill (like a cancelled job's SIGKILL) once its throwaway server runs.
        const poll = setInterval(() => {
          const state = readFileSync(join(dir, 'state'), 'utf8');
          workRoot ??= /^work-root<<(.+)\n(.+)\n/m.exec(state)?.[2];
          if (!workRoot || !existsSync(workRoot)) return;
          for (const e of readdirSync(workRoot)) {
            const pidFile = join(workRoot, e, 'data', 'postmaster.pid');
            if (e.startsWith('lms-pg-') && existsSync(pidFile)) {
              // Once it accepts connections: postmaster.pid's status line says "ready".
              const lines = readFileSync(pidFile, 'utf8').split('\n');
              const pid = Number(lines[0]);
              if (pid > 0 && lines[7]?.trim() === 'ready') {
                postmaster = pid;
                clearInterval(poll);
                child.kill('SIGKILL');
              }
            }
          }
        }, 20);
        child.once('close', () => clearInterval(poll));
      },
    });
    // If the post step fails, the test still must not leave a server running.
    onTestFinished(() => {
      if (postmaster && alive(postmaster)) process.kill(postmaster, 'SIGKILL');
      if (workRoot) rmSync(workRoot, { recursive: true, force: true });
    });
    expect(drill.code).toBeNull(); // killed
    expect(postmaster).toBeDefined();
    expect(alive(postmaster!)).toBe(true); // the server outlived the killed step

    const post = time(
      'drill-post after a killed drill',
      await runDistStep(node, 'drill-post', {
        cwd: ws,
        env: { TMPDIR: tmp },
        metadataOf: 'drill',
        state: drill.state,
      }),
    );
    expect(post.code, post.stdout).toBe(0);
    // The post step stopped this very server: through its work-root scan or its debris sweep.
    expect(post.stdout).toMatch(new RegExp(`stopping the (throwaway )?PostgreSQL .*\\(pid ${postmaster}\\)`));
    await waitFor(() => !alive(postmaster!));
    expect(existsSync(workRoot!)).toBe(false);
  });

  it('on the docker engine: a drill passes through the bundle, and a killed one leaves no container behind', async (t) => {
    if ((await dockerTestMode()) === 'skip') return t.skip();
    const ws = workspace();
    const env = {
      PGHOST: '127.0.0.1',
      PGPORT: String(src.conn.port),
      PGUSER: 'postgres',
      PGDATABASE: 'lms',
      PGPASSWORD: password(),
    };
    const backup = await runDistStep(node, 'backup', { cwd: ws, inputs: { passphrase }, env });
    expect(backup.code, backup.stdout).toBe(0);
    const dockerEnv = { TESTCONTAINERS_RYUK_DISABLED: 'true' };

    const drill = time(
      'docker drill',
      await runDistStep(node, 'drill', { cwd: ws, inputs: { passphrase, engine: 'docker' }, env: dockerEnv }),
    );
    expect(drill.code, `${drill.stdout}\n${drill.stderr}`).toBe(0);
    expect(drill.summary).toContain('docker');
    expect(containersOf(drill.state['run-id']!)).toEqual([]);

    let runId: string | undefined;
    let container: string | undefined;
    const killed = await runDistStep(node, 'drill', {
      cwd: ws,
      inputs: { passphrase, engine: 'docker' },
      env: dockerEnv,
      onSpawn: (child, dir) => {
        const poll = setInterval(() => {
          runId ??= /^run-id<<(.+)\n(.+)\n/m.exec(readFileSync(join(dir, 'state'), 'utf8'))?.[2];
          if (!runId) return;
          container = containersOf(runId)[0];
          if (container) {
            clearInterval(poll);
            child.kill('SIGKILL');
          }
        }, 50);
        child.once('close', () => clearInterval(poll));
      },
    });
    onTestFinished(() => {
      for (const c of runId ? containersOf(runId) : [])
        execFileSync('docker', ['rm', '-f', '-v', c], { stdio: 'ignore' });
    });
    expect(killed.code).toBeNull();
    expect(container).toBeDefined();
    expect(containersOf(runId!)).toEqual([container]); // outlived the killed step

    const post = time(
      'drill-post after a killed docker drill',
      await runDistStep(node, 'drill-post', {
        cwd: ws,
        metadataOf: 'drill',
        state: killed.state,
        env: dockerEnv,
      }),
    );
    expect(post.code, post.stdout).toBe(0);
    expect(post.stdout).toContain('removed 1 throwaway container(s) the drill left behind');
    expect(containersOf(runId!)).toEqual([]);
  });

  it('does nothing when the drill step never started', async () => {
    const post = await runDistStep(node, 'drill-post', { metadataOf: 'drill' });
    expect(post.code).toBe(0);
    expect(post.errors).toEqual([]);
    expect(post.stdout).toContain('::debug::the drill step saved no state');
  });
});

/** Containers (any state) the docker engine labelled with this run id. */
function containersOf(runId: string): string[] {
  return execFileSync('docker', ['ps', '-aq', '--filter', `label=${RUN_ID_LABEL}=${runId}`], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitFor(ok: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
