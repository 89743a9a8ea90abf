// Writes docs/lms-backup.schema.json from the options spec; --check exits 1 when it is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configSchemaText } from '../src/options/schema.js';

const path = join(import.meta.dirname, '..', 'docs', 'lms-backup.schema.json');
const next = configSchemaText();
let current = '';
try {
  current = readFileSync(path, 'utf8');
} catch {}
if (process.argv.includes('--check')) {
  if (current !== next) {
    process.stderr.write(
      'docs/lms-backup.schema.json is out of date: run npx tsx scripts/gen-config-schema.ts\n',
    );
    process.exit(1);
  }
} else if (current !== next) {
  writeFileSync(path, next);
  process.stdout.write('docs/lms-backup.schema.json updated\n');
}
