/**
 * Files and Redis in the same backup, end to end with real files (a symlink, an empty directory,
 * a non-ASCII name, a sparse file over 1 GiB), a real PostgreSQL, real redis-servers and real age:
 * backup -> verify -> drill -> restore, digests and key counts equal; a flipped byte fails.
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listBackups } from '../../src/catalog/catalog.js';
import type { Manifest } from '../../src/catalog/types.js';
import { runBackup } from '../../src/commands/backup.js';
import { runDrill } from '../../src/commands/drill.js';
import { runRestore } from '../../src/commands/restore.js';
import { runVerify } from '../../src/commands/verify.js';
import { generateIdentity } from '../../src/crypto/age.js';
import { MemoryLogger } from '../../src/log.js';
import { FilesTargetNotEmptyError } from '../../src/parts/files.js';
import { RedisTargetNotEmptyError } from '../../src/parts/redis.js';
import { parseRedisUrl } from '../../src/redis/client.js';
import { openStorage } from '../../src/storage/index.js';
import { type SourceDb, startSourceDb, tempDir } from '../helpers/pg.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

const keys = generateIdentity();
let src: SourceDb;
let redis: TestRedis;
const PASSWORD = 'redis-pw-never-in-argv';
const dirs: { remove(): void }[] = [];
const mk = () => {
  const d = tempDir();
  dirs.push(d);
  return d.path;
};
let tree: string;
let backupDir: string;
let manifest: Manifest;
const SPARSE = 1024 * 1024 * 1024 + 4097;

beforeAll(async () => {
  src = await startSourceDb(1);
  redis = await startRedis({ password: PASSWORD, tcp: true });
  // Keys of every type, in two databases, some with a TTL, one with a binary name.
  for (let i = 0; i < 300; i++) await redis.client.call('SET', `session:${i}`, `user-${i}`);
  for (let i = 0; i < 50; i++)
    await redis.client.call('HSET', `course:${i}`, 'title', `Course ${i}`, 'seats', '30');
  await redis.client.call('RPUSH', 'queue:mail', 'a', 'b', 'c');
  await redis.client.call('SADD', 'online', 'u1', 'u2');
  await redis.client.call('ZADD', 'leaderboard', '10', 'u1', '20', 'u2');
  await redis.client.call('SET', 'cache:ttl', 'x', 'EX', '3600');
  await redis.client.call('SET', Buffer.from([0xff, 0x00, 0x41]), Buffer.from([1, 2, 3]));
  await redis.client.call('SELECT', '2');
  for (let i = 0; i < 20; i++) await redis.client.call('SET', `db2:${i}`, String(i));
  await redis.client.call('SELECT', '0');

  const root = mk();
  tree = join(root, 'srv', 'lms');
  mkdirSync(join(tree, 'nginx', 'conf.d'), { recursive: true });
  mkdirSync(join(tree, 'uploads', 'empty-course'), { recursive: true });
  writeFileSync(join(tree, '.env'), 'DATABASE_URL=postgresql://app@db/lms\nSECRET_KEY_BASE=abc123\n');
  chmodSync(join(tree, '.env'), 0o600);
  writeFileSync(join(tree, 'docker-compose.yml'), 'services:\n  app:\n    image: lms:latest\n');
  writeFileSync(join(tree, 'nginx', 'conf.d', 'lms.conf'), 'server { listen 443 ssl; }\n');
  symlinkSync('conf.d/lms.conf', join(tree, 'nginx', 'default.conf'));
  writeFileSync(join(tree, 'uploads', 'Übung 1 – Lösungen.pdf'), Buffer.alloc(200_000, 0x25));
  writeFileSync(join(tree, 'uploads', 'video.sparse'), '');
  truncateSync(join(tree, 'uploads', 'video.sparse'), SPARSE);
  writeFileSync(join(tree, 'uploads', 'debug.log'), 'left out\n');

  backupDir = mk();
  const r = await runBackup(
    {
      connection: src.conn,
      destinations: [await openStorage(backupDir)],
      prefix: 'lms',
      compression: 'auto',
      encryption: { mode: 'age', recipients: [keys.recipient] },
      files: { roots: [tree], excludes: ['*.log'] },
      redis: parseRedisUrl(redis.url, 'redis-url', { LMS_BACKUP_REDIS_PASSWORD: PASSWORD }),
    },
    { logger: new MemoryLogger() },
  );
  manifest = r.manifest;
}, 600_000);

afterAll(async () => {
  await src?.stop();
  await redis?.stop();
  for (const d of dirs) d.remove();
});

describe('files and Redis in the backup', () => {
  it('stores both as objects of the backup, listed in the manifest with the index and the key count', () => {
    const roles = manifest.objects!.map((o) => o.role);
    expect(roles).toEqual(['dump', 'globals', 'files', 'redis']);
    const files = manifest.objects!.find((o) => o.role === 'files')!;
    expect(files.key).toBe(`db/${manifest.id}.files.tar.gz.age`);
    const stored = readdirSync(join(backupDir, 'db')).sort();
    expect(stored).toContain(`${manifest.id}.files.tar.gz.age.sha256`);
    expect(stored).toContain(`${manifest.id}.redis.rdb.age`);
    const rel = tree.slice(1);
    const byPath = new Map(manifest.files!.index.map((e) => [e.path, e]));
    expect(byPath.get(`${rel}/.env`)?.mode).toBe('0600');
    expect(byPath.get(`${rel}/nginx/default.conf`)).toMatchObject({
      type: 'symlink',
      target: 'conf.d/lms.conf',
    });
    expect(byPath.get(`${rel}/uploads/empty-course`)?.type).toBe('dir');
    expect(byPath.get(`${rel}/uploads/Übung 1 – Lösungen.pdf`)?.size).toBe(200_000);
    expect(byPath.get(`${rel}/uploads/video.sparse`)?.size).toBe(SPARSE);
    expect(byPath.has(`${rel}/uploads/debug.log`)).toBe(false);
    expect(manifest.redis).toMatchObject({ keys: 355 + 20, keyspace: { db0: 355, db2: 20 } });
    expect(manifest.redis!.serverVersion).toMatch(/^\d+\.\d+/);
    // The password never reached the manifest.
    expect(readFileSync(join(backupDir, 'db', `${manifest.id}.manifest.json`), 'utf8')).not.toContain(
      PASSWORD,
    );
  });

  it('verify checks every file digest from the archive and the RDB with redis-check-rdb', async () => {
    const r = await runVerify(
      { storage: await openStorage(backupDir), selection: {}, keys: { identities: [keys.identity] } },
      { logger: new MemoryLogger() },
    );
    const files = r.checks.find((c) => c.name.startsWith('files:'))!;
    const rdb = r.checks.find((c) => c.name.startsWith('redis:'))!;
    expect(files.ok, files.detail).toBe(true);
    expect(files.detail).toContain(`${manifest.files!.files} of ${manifest.files!.files} files`);
    expect(rdb.ok, rdb.detail).toBe(true);
    expect(rdb.detail).toContain('375 keys');
    expect(r.ok).toBe(true);
  }, 300_000);

  it('the drill restores the files and compares digests, and loads the RDB into a throwaway redis-server', async () => {
    const r = await runDrill(
      {
        storage: await openStorage(backupDir),
        selection: {},
        keys: { identities: [keys.identity] },
        engine: 'local',
        minTables: 8,
        checks: [],
        rtoSeconds: 4 * 3600,
        rpoSeconds: 24 * 3600,
      },
      { logger: new MemoryLogger() },
    );
    expect(r.report.reasons).toEqual([]);
    expect(r.report.verdict).toBe('pass');
    expect(r.report.files).toMatchObject({
      ok: true,
      files: manifest.files!.files,
      filesOk: manifest.files!.files,
    });
    expect(r.report.redis).toMatchObject({ ok: true, expectedKeys: 375, foundKeys: 375 });
    expect(r.markdown).toMatch(/Files/);
    expect(r.markdown).toMatch(/Redis/);
  }, 600_000);

  it('restores the files into an empty directory (diff -r clean) and Redis into a fresh server, refusing non-empty targets', async () => {
    const out = join(mk(), 'restored');
    const fresh = await startRedis();
    try {
      const storage = await openStorage(backupDir);
      const base = {
        storage,
        selection: {},
        keys: { identities: [keys.identity] },
        target: src.conn,
        safetyBackup: false,
        force: false,
        dryRun: false,
        tables: [],
        schemas: [],
        minTables: 8,
        partsOnly: true,
      };
      const r = await runRestore(
        { ...base, files: { to: out }, redis: { to: fresh.target, url: fresh.url } },
        { logger: new MemoryLogger() },
      );
      expect(r.reasons).toEqual([]);
      expect(r.ok).toBe(true);
      expect(r.parts?.files?.ok).toBe(true);
      expect(r.parts?.redis).toMatchObject({ ok: true, keys: 375 });
      const diff = spawnSync(
        'diff',
        ['-r', '--no-dereference', '--exclude=*.log', tree, join(out, tree.slice(1))],
        {
          encoding: 'utf8',
        },
      );
      expect(diff.stdout + diff.stderr).toBe('');
      expect(diff.status).toBe(0);
      // The sparse file came back sparse.
      const sparse = lstatSync(join(out, tree.slice(1), 'uploads', 'video.sparse'));
      expect(sparse.size).toBe(SPARSE);
      expect(sparse.blocks * 512).toBeLessThan(16 * 1024 * 1024);
      // Redis: the same keys with the same values and TTLs.
      expect(await fresh.client.call('DBSIZE')).toBe(355);
      expect(String(await fresh.client.call('GET', 'session:42'))).toBe('user-42');
      expect(String(await fresh.client.call('HGET', 'course:7', 'title'))).toBe('Course 7');
      expect(Number(await fresh.client.call('TTL', 'cache:ttl'))).toBeGreaterThan(3000);
      expect(await fresh.client.call('GET', Buffer.from([0xff, 0x00, 0x41]))).toEqual(Buffer.from([1, 2, 3]));
      await fresh.client.call('SELECT', '2');
      expect(await fresh.client.call('DBSIZE')).toBe(20);
      await fresh.client.call('SELECT', '0');

      // Again into the same, now non-empty, targets: refused, nothing changed.
      writeFileSync(join(out, tree.slice(1), '.env'), 'CHANGED\n');
      await expect(
        runRestore({ ...base, files: { to: out } }, { logger: new MemoryLogger() }),
      ).rejects.toThrow(FilesTargetNotEmptyError);
      expect(readFileSync(join(out, tree.slice(1), '.env'), 'utf8')).toBe('CHANGED\n');
      await expect(
        runRestore({ ...base, redis: { to: fresh.target, url: fresh.url } }, { logger: new MemoryLogger() }),
      ).rejects.toThrow(RedisTargetNotEmptyError);
      // With --confirm naming the directory: only the nginx part, replaced.
      writeFileSync(join(out, tree.slice(1), 'nginx', 'conf.d', 'lms.conf'), 'CHANGED\n');
      const again = await runRestore(
        { ...base, confirm: out, files: { to: out, path: `${tree}/nginx` } },
        { logger: new MemoryLogger() },
      );
      expect(again.ok).toBe(true);
      expect(readFileSync(join(out, tree.slice(1), 'nginx', 'conf.d', 'lms.conf'), 'utf8')).toBe(
        'server { listen 443 ssl; }\n',
      );
      expect(readFileSync(join(out, tree.slice(1), '.env'), 'utf8')).toBe('CHANGED\n');
    } finally {
      await fresh.stop();
    }
  }, 600_000);

  it('is one backup to list and prune: every part counted in its keys, a missing part makes it damaged', async () => {
    const entries = await listBackups(await openStorage(backupDir));
    expect(entries[0]!.state).toBe('complete');
    // prune deletes entry.keys: every object and sidecar of the backup, the parts included.
    expect(
      entries[0]!.keys.filter((k) => /\.(files\.tar\.gz|redis\.rdb)\.age(\.sha256)?$/.test(k)),
    ).toHaveLength(4);
    const copy = mk();
    cpSync(backupDir, copy, { recursive: true });
    rmSync(join(copy, 'db', `${manifest.id}.redis.rdb.age`));
    const [damaged] = await listBackups(await openStorage(copy));
    expect(damaged!.state).toBe('damaged');
    expect(damaged!.damage).toMatch(/redis object .*redis\.rdb\.age is missing/);
  });

  it('a flipped byte in the stored archive fails verify and the drill', async () => {
    const copy = mk();
    cpSync(backupDir, copy, { recursive: true });
    const file = join(copy, 'db', `${manifest.id}.files.tar.gz.age`);
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    writeFileSync(file, bytes);
    const v = await runVerify(
      { storage: await openStorage(copy), selection: {}, keys: { identities: [keys.identity] } },
      { logger: new MemoryLogger() },
    );
    expect(v.ok).toBe(false);
    expect(v.checks.find((c) => c.name.startsWith('files:'))?.detail).toMatch(/checksum mismatch/);
    const d = await runDrill(
      {
        storage: await openStorage(copy),
        selection: {},
        keys: { identities: [keys.identity] },
        engine: 'local',
        minTables: 8,
        checks: [],
        rtoSeconds: 4 * 3600,
        rpoSeconds: 24 * 3600,
      },
      { logger: new MemoryLogger() },
    );
    expect(d.report.verdict).toBe('fail');
    expect(d.report.files?.ok).toBe(false);
    expect(d.report.reasons.join('\n')).toMatch(/files: .*checksum mismatch/);
    // The Redis part is still proven.
    expect(d.report.redis?.ok).toBe(true);
  }, 600_000);
});
