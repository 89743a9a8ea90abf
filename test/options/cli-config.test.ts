/** lms-backup.yml drives the CLI: nothing on the command line but secrets in the environment. */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateIdentity } from '../../src/crypto/age.js';
import { pgEnv, runCli, startSourceDb, tempDir } from '../helpers/pg.js';

const dir = tempDir();
afterAll(() => dir.remove());

describe('the config file on the CLI', () => {
  it('backs up and drills from lms-backup.yml in the working directory, and refuses a secret in it', async () => {
    const src = await startSourceDb(1);
    try {
      const { identity, recipient } = generateIdentity();
      writeFileSync(
        join(dir.path, 'lms-backup.yml'),
        `backup:\n  destinations: [stored]\n  prefix: cfg\n  recipients: [${recipient}]\ndrill:\n  from: stored\n  engine: local\n  min-tables: 1\n`,
      );
      const r = await runCli(['backup'], pgEnv(src.conn), dir.path);
      expect(r.stderr).toMatch(/stored db\/cfg_/);
      expect(r.code).toBe(0);
      expect(
        readdirSync(join(dir.path, 'stored', 'db')).some((f) => /^cfg_\d{8}_\d{6}.*\.dump\.age$/.test(f)),
      ).toBe(true);
      // The drill: only the identity, in the environment.
      const drill = await runCli(['--json', 'drill'], { LMS_BACKUP_IDENTITY: identity }, dir.path);
      expect(drill.code, drill.stderr).toBe(0);
      expect(JSON.parse(drill.stdout)).toMatchObject({
        verdict: 'pass',
        backupId: expect.stringMatching(/^cfg_/),
      });
      // -q is quiet: nothing on stdout, nothing but warnings on stderr, the exit code says it all.
      const quiet = await runCli(['-q', 'drill'], { LMS_BACKUP_IDENTITY: identity }, dir.path);
      expect(quiet.code, quiet.stderr).toBe(0);
      expect(quiet.stdout).toBe('');
      expect(quiet.stderr).not.toMatch(/»|drilling|report:/);
      // A flag beats the file.
      const flag = await runCli(['backup', '--prefix', 'flag'], pgEnv(src.conn), dir.path);
      expect(flag.code).toBe(0);
      expect(readdirSync(join(dir.path, 'stored', 'db')).some((f) => f.startsWith('flag_'))).toBe(true);

      const bad = join(dir.path, 'bad.yml');
      writeFileSync(bad, 'backup:\n  passphrase: hunter2\n  min-bytes: lots\n');
      const refused = await runCli(['backup', '--config', bad], pgEnv(src.conn), dir.path);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/backup\.passphrase: a secret never goes in the config file/);
      expect(refused.stderr).not.toContain('hunter2');
      expect(existsSync(join(dir.path, 'stored'))).toBe(true);
    } finally {
      await src.stop();
    }
  });
});
