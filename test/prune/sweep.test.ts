import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { DEFAULT_RETENTION_POLICY } from '../../src/catalog/retention.js';
import { runPrune } from '../../src/commands/prune.js';
import { MemoryLogger } from '../../src/log.js';
import { openStorage } from '../../src/storage/index.js';
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
