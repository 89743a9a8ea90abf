/**
 * Backups compressed with zstd outside the archive (pg_dump -Z0 into zstd): what the manifest
 * records, the disaster-day runbook with the real `sha256sum`, `age`, `zstd` and `pg_restore`
 * CLIs, verify, drill and restore on such a backup, the fallbacks (no zstd binary: Node 24's
 * zlib zstd, Node 20's pg_dump-native compression), and a zstd stream damaged inside an
 * authenticated encryption.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/catalog/types.js';
import { runBackup } from '../../src/commands/backup.js';
import { runDrill } from '../../src/commands/drill.js';
import { runRestore } from '../../src/commands/restore.js';
import { runVerify } from '../../src/commands/verify.js';
import { generateIdentity } from '../../src/crypto/age.js';
import { sha256Sidecar } from '../../src/crypto/hash.js';
import { MemoryLogger } from '../../src/log.js';
import { withDatabase } from '../../src/postgres/connection.js';
import { openStorage } from '../../src/storage/index.js';
import { nodeBinaries } from '../action/helpers.js';
import { CLI_BUNDLE, pgEnv, query, type SourceDb, startSourceDb, tempDir } from '../helpers/pg.js';

let src: SourceDb;
const keys = generateIdentity();
const cleanup: { remove(): void }[] = [];
let keyFile: string;

beforeAll(async () => {
  src = await startSourceDb(1);
  const d = tempDir();
  cleanup.push(d);
  keyFile = join(d.path, 'identity.txt');
  writeFileSync(keyFile, `${keys.identity}\n`, { mode: 0o600 });
});
afterAll(async () => {
  await src?.stop();
  for (const d of cleanup) d.remove();
});

async function backup(env: NodeJS.ProcessEnv = process.env) {
  const d = tempDir();
  cleanup.push(d);
  const r = await runBackup(
    {
      connection: src.conn,
      destinations: [await openStorage(d.path)],
      prefix: 'lms',
      compression: 'auto',
      encryption: { mode: 'age', recipients: [keys.recipient] },
    },
    { logger: new MemoryLogger(), env },
  );
  return { dir: d.path, id: r.id, manifest: r.manifest };
}

const drill = async (dir: string) =>
  runDrill(
    {
      storage: await openStorage(dir),
      selection: {},
      keys: { identities: [keys.identity] },
      engine: 'local',
      minTables: 8,
      checks: [],
      rtoSeconds: 3600,
      rpoSeconds: 86400,
    },
    { logger: new MemoryLogger() },
  );

const run = (cmd: string, args: string[], cwd: string) =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('zstd outside the archive', () => {
  it('auto records zstd:1 outside a -Z0 archive, and the runbook works with the standard CLIs', async () => {
    const b = await backup();
    expect(b.manifest.dump.compression).toBe('none');
    expect(b.manifest.dump.outerCompression).toBe('zstd:1');
    const obj = b.manifest.objects!.find((o) => o.role === 'dump')!;
    expect(obj.compression).toBe('zstd:1');
    expect(obj.plainSha256).toBe(b.manifest.dump.sha256);

    const db = join(b.dir, 'db');
    const name = `${b.id}.dump.age`;
    // 1. sha256sum -c on the sidecar: the stored bytes.
    expect(run('sha256sum', ['-c', `${name}.sha256`], db)).toMatch(/: OK/);
    // 2. age -d: the plaintext, whose SHA-256 is the manifest's dump.sha256.
    run('age', ['-d', '-i', keyFile, '-o', 'lms.dump.zst', name], db);
    expect(run('sha256sum', ['lms.dump.zst'], db).split(' ')[0]).toBe(b.manifest.dump.sha256);
    // Not yet an archive: pg_restore refuses the zstd stream.
    expect(() => run('pg_restore', ['--list', 'lms.dump.zst'], db)).toThrow();
    // 3. zstd -d, then a plain pg_restore --list reads it.
    run('zstd', ['-q', '-d', 'lms.dump.zst', '-o', 'lms.dump'], db);
    const toc = run('pg_restore', ['--list', 'lms.dump'], db);
    expect(toc).toMatch(/TABLE DATA public users/);
    // 4. pg_restore into a new database: the rows are all there.
    const target = withDatabase(src.conn, 'runbook');
    await query(src.conn, 'CREATE DATABASE runbook');
    execFileSync('pg_restore', ['--no-owner', '--exit-on-error', '-d', 'runbook', join(db, 'lms.dump')], {
      env: { ...process.env, ...pgEnv(src.conn) },
    });
    const users = b.manifest.inventory.tables.find((t) => t.name === 'users')!;
    expect(Number((await query<{ n: string }>(target, 'SELECT count(*) AS n FROM users'))[0]!.n)).toBe(
      users.rows,
    );
  });

  it('verify, drill and restore all pass on such a backup', async () => {
    const b = await backup();
    const storage = await openStorage(b.dir);
    const v = await runVerify(
      { storage, selection: {}, keys: { identities: [keys.identity] } },
      { logger: new MemoryLogger() },
    );
    expect(v.checks.filter((c) => !c.ok)).toEqual([]);
    expect(v.checks.map((c) => c.name)).toContain('pg_restore --list reads the archive');

    const { report } = await drill(b.dir);
    expect(report.reasons).toEqual([]);
    expect(report.verdict).toBe('pass');
    for (const t of report.tables) expect(t.found).toBe(t.expected);

    await query(src.conn, 'CREATE DATABASE restored_z');
    const target = withDatabase(src.conn, 'restored_z');
    const r = await runRestore(
      {
        storage,
        selection: {},
        keys: { identities: [keys.identity] },
        target,
        safetyBackup: false,
        force: false,
        dryRun: false,
        tables: [],
        schemas: [],
        jobs: 2,
        minTables: 8,
      },
      { logger: new MemoryLogger() },
    );
    expect(r.ok).toBe(true);
    const n = await query<{ n: string }>(target, 'SELECT count(*) AS n FROM grades');
    expect(Number(n[0]!.n)).toBe(b.manifest.inventory.tables.find((t) => t.name === 'grades')!.rows);
  });

  it('without a zstd binary on Node 20, auto falls back to pg_dump-native compression and still drills', async () => {
    if (typeof ((await import('node:zlib')) as Record<string, unknown>).createZstdCompress === 'function') {
      // This Node has zlib zstd: the fallback under test is the Node 20 one, checked by the CLI case below.
      expect(process.versions.node.split('.')[0]).not.toBe('20');
      return;
    }
    const b = await backup({ ...process.env, LMS_ZSTD: 'none' });
    expect(b.manifest.dump.outerCompression).toBeUndefined();
    expect(b.manifest.dump.compression).toBe('gzip:1');
    expect(b.manifest.objects!.find((o) => o.role === 'dump')!.compression).toBeUndefined();
    const { report } = await drill(b.dir);
    expect(report.reasons).toEqual([]);
    expect(report.verdict).toBe('pass');
  });

  it('Node 24 without the binary compresses with its own zlib zstd; Node 20 drills it with the zstd binary', async () => {
    // The action's runtime: this Node when the suite runs on it, else the installed Node 24.
    const node24 =
      Number(process.versions.node.split('.')[0]) >= 24
        ? { label: 'node 24', path: process.execPath }
        : nodeBinaries().find((n) => n.label === 'node 24');
    expect(node24, 'the action runtime (Node 24) is installed for the tests').toBeDefined();
    const d = tempDir();
    cleanup.push(d);
    execFileSync(node24!.path, [CLI_BUNDLE, '-q', 'backup', '--to', d.path, '--recipient', keys.recipient], {
      env: { ...process.env, ...pgEnv(src.conn), LMS_ZSTD: 'none' },
    });
    const file = readdirSync(join(d.path, 'db')).find((f) => f.endsWith('.manifest.json'))!;
    const m = JSON.parse(readFileSync(join(d.path, 'db', file), 'utf8')) as Manifest;
    expect(m.dump.outerCompression).toBe('zstd:1');
    expect(m.dump.compression).toBe('none');
    const { report } = await drill(d.path);
    expect(report.reasons).toEqual([]);
    expect(report.verdict).toBe('pass');
    // And Node 24 verifies it without the binary (zlib zstd -d).
    const out = execFileSync(
      node24!.path,
      [CLI_BUNDLE, 'verify', '--from', d.path, '--identity-file', keyFile],
      {
        env: { ...process.env, LMS_ZSTD: 'none' },
        encoding: 'utf8',
      },
    );
    expect(out).toMatch(/pg_restore --list reads the archive/);
  });

  it('a zstd stream damaged inside a valid encryption fails the drill on zstd’s own checksum', async () => {
    const b = await backup();
    const db = join(b.dir, 'db');
    const name = `${b.id}.dump.age`;
    // Decrypt, flip one byte of the compressed stream, re-encrypt to the same recipient and
    // make the manifest and sidecar agree: only zstd's content checksum can catch it now.
    run('age', ['-d', '-i', keyFile, '-o', 'z.zst', name], db);
    const z = readFileSync(join(db, 'z.zst'));
    z[Math.floor(z.length / 2)]! ^= 0x40;
    writeFileSync(join(db, 'z.zst'), z);
    run('age', ['-r', keys.recipient, '-o', 'new.age', 'z.zst'], db);
    const stored = readFileSync(join(db, 'new.age'));
    writeFileSync(join(db, name), stored);
    const sha = (buf: Buffer) => execFileSync('sha256sum', { input: buf, encoding: 'utf8' }).split(' ')[0]!;
    const storedSha = sha(stored);
    writeFileSync(join(db, `${name}.sha256`), sha256Sidecar(storedSha, name));
    const mfile = join(db, `${b.id}.manifest.json`);
    const m = JSON.parse(readFileSync(mfile, 'utf8')) as Manifest;
    const plainSha = sha(z);
    m.object = { ...m.object, bytes: stored.length, sha256: storedSha };
    m.dump.sha256 = plainSha;
    m.objects = m.objects!.map((o) =>
      o.role === 'dump' ? { ...o, bytes: stored.length, sha256: storedSha, plainSha256: plainSha } : o,
    );
    writeFileSync(mfile, JSON.stringify(m));
    const { report } = await drill(b.dir);
    expect(report.verdict).toBe('fail');
    expect(report.checksum.ok).toBe(true);
    expect(report.decryption.ok).toBe(true);
    expect(report.reasons.join('\n')).toMatch(/decompression \(zstd -d\) of the decrypted dump failed/);
    expect(report.restore.ok).toBe(false);
  });
});
