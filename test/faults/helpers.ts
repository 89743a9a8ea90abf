/**
 * Shared set-up for the fault matrix (test/faults/*.test.ts): every case is titled
 * '<fault> → <expected outcome>' (scripts/gen-failure-table.mjs renders those titles into the
 * README's "Failure behaviour" table) and drives the bundled CLI, as users do.
 */
import { chmodSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listBackups } from '../../src/catalog/catalog.js';
import type { Manifest, RunRecord } from '../../src/catalog/types.js';
import { runBackup } from '../../src/commands/backup.js';
import { generateIdentity } from '../../src/crypto/age.js';
import { MemoryLogger } from '../../src/log.js';
import { openStorage } from '../../src/storage/index.js';
import type { SourceDb } from '../helpers/pg.js';
import { tempDir } from '../helpers/pg.js';

export const keys = generateIdentity();

const made: { remove(): void }[] = [];
export function scratch(prefix = 'lms-fault-'): string {
  const d = tempDir(prefix);
  // A local throwaway server runs as the unprivileged postgres user when we are root.
  chmodSync(d.path, 0o755);
  made.push(d);
  return d.path;
}
export function removeScratch(): void {
  for (const d of made.splice(0)) d.remove();
}

export async function backupTo(
  src: SourceDb,
  dir: string,
  at?: Date,
): Promise<{ id: string; manifest: Manifest }> {
  const r = await runBackup(
    {
      connection: src.conn,
      destinations: [await openStorage(dir)],
      prefix: 'lms',
      compression: 'auto',
      encryption: { mode: 'age', recipients: [keys.recipient] },
    },
    { logger: new MemoryLogger(), ...(at ? { now: () => at } : {}) },
  );
  return { id: r.id, manifest: r.manifest };
}

export function runRecords(dir: string): RunRecord[] {
  const runs = join(dir, 'runs');
  if (!existsSync(runs)) return [];
  return readdirSync(runs)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(runs, f), 'utf8')) as RunRecord)
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

export async function states(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await listBackups(await openStorage(dir))) out[e.id] = e.state;
  return out;
}

/** No user ever sees a raw stack trace. */
export function noStack(text: string): boolean {
  return !/\n\s+at .+\(.+:\d+:\d+\)/.test(text) && !/Unhandled 'error' event/.test(text);
}
