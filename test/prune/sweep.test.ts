import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { DEFAULT_RETENTION_POLICY } from '../../src/catalog/retention.js';
import { runPrune } from '../../src/commands/prune.js';
import { MemoryLogger } from '../../src/log.js';
import { openStorage, stagedDumpName } from '../../src/storage/index.js';
import { tempDir } from '../helpers/pg.js';

const dir = tempDir();
afterAll(() => dir.remove());

it('prune removes staged files of interrupted backups older than a day, and only those', async () => {
  mkdirSync(join(dir.path, 'db'), { recursive: true });
  const old = join(dir.path, 'db', '.tmp-0a1b2c.dump.partial');
  const fresh = join(dir.path, 'db', '.tmp-3d4e5f.dump.partial');
  writeFileSync(old, 'half a dump');
  writeFileSync(fresh, 'a dump in progress');
  const twoDaysAgo = new Date(Date.now() - 2 * 86400_000);
  utimesSync(old, twoDaysAgo, twoDaysAgo);
  const storage = await openStorage(dir.path);

  await runPrune({ storage, policy: DEFAULT_RETENTION_POLICY, dryRun: true }, { logger: new MemoryLogger() });
  expect(existsSync(old)).toBe(true);

  const logger = new MemoryLogger();
  await runPrune({ storage, policy: DEFAULT_RETENTION_POLICY, dryRun: false }, { logger });
  expect(existsSync(old)).toBe(false);
  expect(existsSync(fresh)).toBe(true);
  expect(logger.text()).toContain(`removed ${old}, left behind by an interrupted run`);
});

it('staged dumps in the staging directory: a dead run’s file goes, a live run’s stays at any age; dry run lists only', async () => {
  const staging = join(dir.path, 'staging');
  mkdirSync(staging, { recursive: true });
  const host = hostname()
    .replace(/[^A-Za-z0-9.-]/g, '_')
    .slice(0, 40);
  // A process that ran and is gone, one that runs now (this one), another host's file.
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
  const deadFile = join(staging, `.tmp-stage_${host}_pid${dead}_0123456789ab.dump.partial`);
  const liveFile = join(staging, `.tmp-stage_${host}_pid${process.pid}_0123456789ab.dump.partial`);
  const otherHost = join(staging, '.tmp-stage_elsewhere_pid1_0123456789ab.dump.partial');
  const unrelated = join(staging, '.tmp-something-else');
  for (const f of [deadFile, liveFile, otherHost, unrelated]) writeFileSync(f, 'x');
  const threeDaysAgo = new Date(Date.now() - 3 * 86400_000);
  utimesSync(liveFile, threeDaysAgo, threeDaysAgo);
  const storage = await openStorage(join(dir.path, 'dest'));

  const dry = await runPrune(
    { storage, policy: DEFAULT_RETENTION_POLICY, dryRun: true, stagingDir: staging },
    { logger: new MemoryLogger() },
  );
  expect(dry.sweep).toEqual([
    { kind: 'staged file', name: deadFile, reason: 'left behind by an interrupted run' },
  ]);
  expect(existsSync(deadFile)).toBe(true);

  const real = await runPrune(
    { storage, policy: DEFAULT_RETENTION_POLICY, dryRun: false, stagingDir: staging },
    { logger: new MemoryLogger() },
  );
  expect(real.sweep).toEqual([
    { kind: 'staged file', name: deadFile, reason: 'left behind by an interrupted run' },
  ]);
  expect(existsSync(deadFile)).toBe(false);
  for (const f of [liveFile, otherHost, unrelated]) expect(existsSync(f)).toBe(true);
});

it('a new staged dump is named by host and pid, so the sweeps can tell whose it is', () => {
  expect(stagedDumpName()).toMatch(
    new RegExp(`^\\.tmp-stage_.+_pid${process.pid}_[0-9a-f]{12}\\.dump\\.partial$`),
  );
});
