import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Tests run the CLI and the action as users do: from the bundles in dist/, built fresh here. */
export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  // The record spool and crash logs of test runs stay out of the user's home (inherited by the workers).
  process.env.LMS_BACKUP_STATE_DIR ??= mkdtempSync(join(tmpdir(), 'lms-test-state-'));
}
