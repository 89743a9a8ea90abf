import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/pg.js';

const dir = tempDir();
afterAll(() => dir.remove());

it('the demo seeds an LMS, backs it up encrypted, drills it, and passes', async () => {
  const demo = join(dir.path, 'demo');
  const r = await runCli(['demo', '--dir', demo]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/Drill drill_\d{8}_\d{6}: PASS/);
  expect(r.stdout).toMatch(/tables +10\/10 with exact row counts/);
  const identityFile = join(demo, 'demo-identity.txt');
  expect(statSync(identityFile).mode & 0o777).toBe(0o600);
  const identity = readFileSync(identityFile, 'utf8').match(/AGE-SECRET-KEY-1\S+/)![0];
  expect(r.stdout + r.stderr).not.toContain(identity);
  expect(r.stdout).toContain(identityFile);
  const files = readdirSync(join(demo, 'backups', 'db'));
  expect(files.filter((f) => f.endsWith('.dump.age'))).toHaveLength(1);
  expect(files.filter((f) => f.endsWith('.manifest.json'))).toHaveLength(1);
  expect(readdirSync(join(demo, 'backups', 'drill_logs')).filter((f) => f.endsWith('.md'))).toHaveLength(1);
});
