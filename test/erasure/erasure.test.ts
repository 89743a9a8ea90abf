/**
 * The erasure ledger end to end, against a real PostgreSQL (local binaries) and the real `age` CLI:
 * forget records encrypted, checksummed entries; a restore of a backup taken before them comes back
 * without the erased people and with their dependent rows handled per the foreign keys; the drill
 * passes only because the replay removed them; prune never touches the ledger.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackupEntry } from '../../src/catalog/catalog.js';
import { backupId } from '../../src/catalog/names.js';
import { runBackup } from '../../src/commands/backup.js';
import { runDrill } from '../../src/commands/drill.js';
import { runPrune } from '../../src/commands/prune.js';
import { runReport } from '../../src/commands/report.js';
import { runRestore } from '../../src/commands/restore.js';
import { generateIdentity } from '../../src/crypto/age.js';
import { ForgetRefusedError, parseCsv, runForget } from '../../src/erasure/forget.js';
import { listLedger, readLedger } from '../../src/erasure/ledger.js';
import { expiryOf } from '../../src/erasure/status.js';
import { MemoryLogger } from '../../src/log.js';
import { withDatabase } from '../../src/postgres/connection.js';
import { renderReadinessHtml } from '../../src/report/html.js';
import { renderDrillReportMarkdown } from '../../src/report/markdown.js';
import { openStorage } from '../../src/storage/index.js';
import { query, type SourceDb, startSourceDb, tempDir } from '../helpers/pg.js';

let src: SourceDb;
let dir: string;
let dir2: string;
let oldBackup: string;
let oldBackupIn3: string;
const keys = generateIdentity();
const cleanup: { remove(): void }[] = [];
const logger = () => new MemoryLogger();
const encryption = { mode: 'age' as const, recipients: [keys.recipient] };

const SCHEMA = `
CREATE TABLE people (id bigint PRIMARY KEY, email text NOT NULL UNIQUE);
CREATE TABLE orders (id bigint PRIMARY KEY, person_id bigint NOT NULL REFERENCES people(id) ON DELETE CASCADE);
CREATE TABLE order_lines (id bigint PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE);
CREATE TABLE notes (id bigint PRIMARY KEY, person_id bigint REFERENCES people(id) ON DELETE SET NULL);
CREATE TABLE invoices (id bigint PRIMARY KEY, person_id bigint NOT NULL REFERENCES people(id) ON DELETE RESTRICT);
INSERT INTO people SELECT g, 'p' || g || '@example.org' FROM generate_series(1, 6) g;
INSERT INTO orders VALUES (11, 1), (12, 1), (21, 2), (31, 3);
INSERT INTO order_lines VALUES (111, 11), (112, 11), (211, 21);
INSERT INTO notes VALUES (1, 1), (2, 5);
INSERT INTO invoices VALUES (1, 4);
`;

async function backup(to: string[]) {
  return runBackup(
    {
      connection: src.conn,
      destinations: await Promise.all(to.map((d) => openStorage(d))),
      prefix: 'lms',
      compression: 'auto',
      encryption,
    },
    { logger: logger() },
  );
}

async function forget(to: string[], table: string, keyList: string[], extra: Record<string, unknown> = {}) {
  return runForget(
    {
      destinations: await Promise.all(to.map((d) => openStorage(d))),
      encryption,
      table,
      keys: keyList,
      reference: 'GDPR-2026-001',
      apply: false,
      database: src.conn,
      ...extra,
    },
    { logger: logger() },
  );
}

async function restoreInto(from: string, database: string, extra: Record<string, unknown> = {}) {
  return runRestore(
    {
      storage: await openStorage(from),
      selection: { name: oldBackup },
      keys: { identities: [keys.identity] },
      target: withDatabase(src.conn, database),
      safetyBackup: false,
      force: false,
      dryRun: false,
      tables: [],
      schemas: [],
      minTables: 8,
      ...extra,
    },
    { logger: logger() },
  );
}

const ids = async (database: string, sql: string) =>
  (await query<{ id: string }>(withDatabase(src.conn, database), sql)).map((r) => Number(r.id));

beforeAll(async () => {
  src = await startSourceDb(1);
  const client = await (await import('../../src/postgres/client.js')).connect(src.conn);
  try {
    await client.query(SCHEMA);
  } finally {
    await client.end();
  }
  const [d1, d2] = [tempDir(), tempDir()];
  cleanup.push(d1, d2);
  dir = d1.path;
  dir2 = d2.path;
  // The old backup: taken before any erasure, it holds everyone.
  oldBackup = (await backup([dir, dir2])).id;
});
afterAll(async () => {
  await src?.stop();
  for (const d of cleanup) d.remove();
});

describe('forget', () => {
  it('refuses bad keys before anything is written', async () => {
    const cases: [string, string[], RegExp][] = [
      ['public.nobody', ['id=1'], /table public\.nobody is not in the database/],
      ['public.people', ['uid=1'], /has no column uid/],
      ['public.people', ['id=abc'], /does not parse as bigint/],
      ['public.people', ['id'], /is not column=value/],
      ['public.people', ['id=1', 'email=x'], /names the columns/],
    ];
    for (const [table, k, re] of cases) {
      const e = await forget([dir], table, k).catch((x: unknown) => x);
      expect(e, `${table} ${k}`).toBeInstanceOf(ForgetRefusedError);
      expect((e as Error).message).toMatch(re);
      expect((e as ForgetRefusedError).exitCode).toBe(2);
    }
    // Without a database, the newest backup's inventory decides (tables only).
    const off = await forget([dir], 'public.nobody', ['id=1'], { database: undefined }).catch(
      (x: unknown) => x,
    );
    expect((off as Error).message).toMatch(/not in the newest backup/);
    expect(await listLedger(await openStorage(dir))).toEqual([]);
  });

  it('records two users as an encrypted, checksummed ledger entry in every destination, leaving the live database alone', async () => {
    const r = await forget([dir, dir2], 'public.people', ['id=1', 'id=2']);
    expect(r.keys).toBe(2);
    expect(r.validatedAgainst).toMatch(/^database /);
    expect(r.stored.map((s) => s.destination)).toEqual([dir, dir2]);
    expect(await ids('lms', 'SELECT id FROM people ORDER BY id')).toEqual([1, 2, 3, 4, 5, 6]);
    for (const d of [dir, dir2]) {
      const files = readdirSync(join(d, 'erasures'));
      expect(files).toEqual([`${r.id}.json.age`, `${r.id}.json.age.sha256`]);
      const stored = readFileSync(join(d, 'erasures', `${r.id}.json.age`));
      expect(stored.toString('latin1')).not.toContain('"keys"');
      // The sidecar checks with sha256sum; the entry decrypts with the stock age CLI.
      execFileSync('sha256sum', ['-c', `${r.id}.json.age.sha256`], { cwd: join(d, 'erasures') });
      const idFile = join(d, 'id.txt');
      writeFileSync(idFile, `${keys.identity}\n`, { mode: 0o600 });
      const plain = JSON.parse(
        execFileSync('age', ['-d', '-i', idFile, join(d, 'erasures', `${r.id}.json.age`)]).toString(),
      );
      expect(plain).toMatchObject({
        format: 'lms-backup/erasure@1',
        id: r.id,
        reference: 'GDPR-2026-001',
        table: { schema: 'public', name: 'people' },
        columns: ['id'],
        keys: [['1'], ['2']],
      });
    }
    // Create-only: the same entry cannot be written twice.
    const entries = await readLedger(await openStorage(dir), { identities: [keys.identity] }, logger());
    expect(entries.map((e) => e.id)).toEqual([r.id]);
  });

  it('a keys file (CSV, header naming the columns) parses quoted values', () => {
    expect(parseCsv('email\n"a,b@x.org"\nc@x.org\r\n"say ""hi"""\n')).toEqual([
      ['email'],
      ['a,b@x.org'],
      ['c@x.org'],
      ['say "hi"'],
    ]);
  });
});

describe('restore replays the ledger', () => {
  it('an older backup comes back without the erased users, their orders cascaded, their notes cleared', async () => {
    const r = await restoreInto(dir, 'restored_full');
    expect(r.reasons).toEqual([]);
    expect(r.ok).toBe(true);
    expect(await ids('restored_full', 'SELECT id FROM people ORDER BY id')).toEqual([3, 4, 5, 6]);
    expect(await ids('restored_full', 'SELECT id FROM orders ORDER BY id')).toEqual([31]);
    expect(await ids('restored_full', 'SELECT id FROM order_lines ORDER BY id')).toEqual([]);
    expect(
      await query(withDatabase(src.conn, 'restored_full'), 'SELECT id, person_id FROM notes ORDER BY id'),
    ).toEqual([
      { id: '1', person_id: null },
      { id: '2', person_id: '5' },
    ]);
    expect(r.erasures).toMatchObject({
      replayed: true,
      entries: 1,
      keys: 2,
      rowsRemoved: 2,
      cascadedRows: 6,
      keysStillPresent: 0,
      violations: [],
    });
  });

  it('a selective restore into a side database replays it too', async () => {
    const r = await restoreInto(dir, 'lms', { tables: ['public.people'] });
    expect(r.ok).toBe(true);
    const side = r.plan.sideDatabase!;
    expect(await ids(side, 'SELECT id FROM people ORDER BY id')).toEqual([3, 4, 5, 6]);
    expect(r.erasures?.keysStillPresent).toBe(0);
  });

  it('--no-erasures brings them back, says so loudly, and is refused over a database with tables', async () => {
    const plan = await restoreInto(dir, 'planned', { dryRun: true });
    expect(plan.nextSteps).toContain('1 erasure(s) in the ledger will be replayed into the restored data');
    const f = await restoreInto(dir, 'forensic2', { noErasures: true });
    expect(f.ok).toBe(true);
    expect(await ids('forensic2', 'SELECT id FROM people WHERE id IN (1, 2) ORDER BY id')).toEqual([1, 2]);
    expect(f.erasures).toMatchObject({ replayed: false, keysStillPresent: 2, rowsRemoved: 0 });
    expect(f.nextSteps[0]).toMatch(/^ERASURES NOT REPLAYED \(--no-erasures\)/);
    const refused = await restoreInto(dir, 'lms', { noErasures: true, confirm: 'lms' }).catch(
      (x: unknown) => x,
    );
    expect((refused as Error).message).toMatch(/refusing --no-erasures over "lms"/);
    // The live database was not touched by the refused restore.
    expect(await ids('lms', 'SELECT id FROM people ORDER BY id')).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('a key a RESTRICT foreign key protects is reported, not forced, and fails the restore', async () => {
    await forget([dir2], 'public.people', ['id=4']);
    const r = await restoreInto(dir2, 'restored_restrict');
    expect(r.ok).toBe(false);
    expect(r.erasures?.violations.join('\n')).toMatch(/refused by foreign key invoices_person_id_fkey/);
    expect(r.reasons.join('\n')).toMatch(/1 erased key\(s\) are still present/);
    // Nothing of the other erasure was lost to the refused one: 1 and 2 are gone, 4 remains.
    expect(await ids('restored_restrict', 'SELECT id FROM people ORDER BY id')).toEqual([3, 4, 5, 6]);
    // No personal data in the messages: the key's value is not named.
    expect(r.reasons.join('\n')).not.toMatch(/\(id\)=\(4\)/);
  });
});

describe('a ledger that cannot be replayed', () => {
  it('stops the restore before anything changes: a damaged entry, then one it cannot decrypt', async () => {
    const d = tempDir();
    cleanup.push(d);
    oldBackupIn3 = (await backup([d.path])).id;
    const f = await forget([d.path], 'public.people', ['id=5']);
    const entry = join(d.path, 'erasures', `${f.id}.json.age`);
    const good = readFileSync(entry);
    const bad = Buffer.from(good);
    bad[bad.length - 5]! ^= 1;
    writeFileSync(entry, bad);
    const e = await restoreInto(d.path, 'never_made', { selection: { name: oldBackupIn3 } }).catch(
      (x: unknown) => x,
    );
    expect((e as Error).message).toMatch(
      /refusing to restore: the erasure ledger cannot be replayed .*SHA-256.*nothing was changed/s,
    );
    expect((e as { exitCode: number }).exitCode).toBe(1);
    expect(await query(src.conn, "SELECT 1 FROM pg_database WHERE datname = 'never_made'")).toEqual([]);

    // Repaired, plus an entry encrypted to a key the restore does not hold (a forget with the wrong recipients).
    writeFileSync(entry, good);
    const other = generateIdentity();
    await forget([d.path], 'public.people', ['id=6'], {
      encryption: { mode: 'age', recipients: [other.recipient] },
    });
    const e2 = await restoreInto(d.path, 'never_made', { selection: { name: oldBackupIn3 } }).catch(
      (x: unknown) => x,
    );
    expect((e2 as Error).message).toMatch(/cannot decrypt ledger entry .*nothing was changed/s);
    expect((e2 as { hint?: string }).hint).toMatch(/identity/);
    expect(await query(src.conn, "SELECT 1 FROM pg_database WHERE datname = 'never_made'")).toEqual([]);
  });
});

describe('the drill proves the erasures', () => {
  const drill = async (noErasures: boolean) =>
    runDrill(
      {
        storage: await openStorage(dir),
        selection: { name: oldBackup },
        keys: { identities: [keys.identity] },
        engine: 'local',
        minTables: 8,
        checks: [],
        rtoSeconds: 4 * 3600,
        rpoSeconds: 24 * 3600,
        noErasures,
      },
      { logger: logger() },
    );

  it('passes only because the replay removed the erased keys, and fails without it', async () => {
    const ok = await drill(false);
    expect(ok.report.reasons).toEqual([]);
    expect(ok.report.verdict).toBe('pass');
    expect(ok.report.erasures).toMatchObject({
      replayed: true,
      entries: 1,
      rowsRemoved: 2,
      keysStillPresent: 0,
    });
    expect(ok.markdown).toContain('### Erasures: ✅ 0 erased key(s) still present');

    const bad = await drill(true);
    expect(bad.report.verdict).toBe('fail');
    expect(bad.report.erasures).toMatchObject({ replayed: false, keysStillPresent: 2 });
    expect(bad.report.reasons.join('\n')).toMatch(
      /2 erased key\(s\) are present: the erasure ledger was not replayed/,
    );
    expect(renderDrillReportMarkdown(bad.report)).toContain('### Erasures: ❌ 2 erased key(s) still present');
  });
});

describe('prune and the ledger', () => {
  it('never deletes erasures/, even when it removes every backup it may', async () => {
    await backup([dir2]);
    const storage = await openStorage(dir2);
    const before = readdirSync(join(dir2, 'erasures')).sort();
    expect(before.length).toBe(4);
    const r = await runPrune(
      {
        storage,
        policy: { keepDays: 1, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepMin: 0 },
        dryRun: false,
        now: new Date(Date.now() + 400 * 86_400_000),
      },
      { logger: logger(), lastBackupRunFailed: async () => false },
    );
    // It did remove a backup (so it had the chance to touch the ledger), and the ledger stands.
    expect(r.deleted.some((k) => k.startsWith(`db/${oldBackup}.`))).toBe(true);
    expect(r.deleted.filter((k) => k.startsWith('erasures/'))).toEqual([]);
    expect(readdirSync(join(dir2, 'erasures')).sort()).toEqual(before);
  });
});

describe('the report says when each erasure is complete in backups', () => {
  it('lists the backups taken before it and the date the last of them expires', async () => {
    const now = new Date();
    const r = await runReport(
      {
        storages: [await openStorage(dir)],
        windowDays: 7,
        now,
        formats: [],
        failOn: [],
        rpoSeconds: 86_400,
        rtoSeconds: 3600,
        keepDays: 2,
        retention: { keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepMin: 0 },
      },
      { logger: logger() },
    );
    expect(r.erasures.entries).toBe(1);
    expect(r.erasures.outstanding).toBe(1);
    const [e] = r.erasures.perEntry;
    expect(e!.heldBy).toEqual([`${dir}: ${oldBackup}`]);
    // keep-days 2 and nothing else: the old backup (taken minutes ago) leaves at the prune 2 days on.
    const expected = new Date(now.getTime() + 2 * 86_400_000).toISOString().slice(0, 10);
    expect(e!.completeBy).toBe(expected);
    expect(r.erasures.allCompleteBy).toBe(expected);
    expect(r.markdown).toContain(`erasure complete in backups by ${expected}`);
    expect(r.markdown).toContain('### Erasures');
    const html = renderReadinessHtml(r.readiness, r.series, { erasures: r.erasures });
    expect(html).toContain('<h2>Erasures</h2>');
    expect(html).toContain(`every erasure complete in backups by ${expected}`);
  });
});

describe('expiryOf', () => {
  const day = 86_400_000;
  const now = new Date('2026-03-01T02:00:00Z');
  const entry = (daysAgo: number): BackupEntry => {
    const time = new Date(now.getTime() - daysAgo * day);
    return { id: backupId('lms', time), time, state: 'complete', keys: [], bytes: 0 };
  };
  it('simulates daily backups and prunes until the last holding backup leaves', () => {
    const old = [entry(2), entry(1)];
    const policy = { keepDays: 7, keepDaily: 0, keepWeekly: 0, keepMonthly: 0, keepMin: 3 };
    // The older one is 7 days old 5 days from now; the newer one a day later.
    expect(expiryOf(old, new Set([old[0]!.id]), policy, now)).toEqual(new Date(now.getTime() + 5 * day));
    expect(expiryOf(old, new Set(old.map((b) => b.id)), policy, now)).toEqual(
      new Date(now.getTime() + 6 * day),
    );
    // Monthly keeps hold a backup far longer: the newest of February survives 12 months.
    const monthly = { ...policy, keepMonthly: 12 };
    const d = expiryOf(old, new Set([old[1]!.id]), monthly, now)!;
    expect(d.getTime() - now.getTime()).toBeGreaterThan(300 * day);
  });
});
