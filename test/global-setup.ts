import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Every project: the record spool and crash logs of test runs stay out of the user's home. */
export default function setup(): void {
  process.env.LMS_BACKUP_STATE_DIR ??= mkdtempSync(join(tmpdir(), 'lms-test-state-'));
}
