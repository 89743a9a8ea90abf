import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  createReadStream,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { archiveFiles, emptySummary, excluder, type FilesSummary } from '../../src/files/archive.js';
import { checkArchive, compareTree, extractArchive } from '../../src/files/extract.js';
import { readTar } from '../../src/files/tar.js';
import { tempDir } from '../helpers/pg.js';

const dirs: { remove(): void }[] = [];
const servers: Server[] = [];
const mk = () => {
  const d = tempDir();
  dirs.push(d);
  return d.path;
};
afterAll(() => {
  for (const s of servers) s.close();
  for (const d of dirs) d.remove();
});

const LONG = `${'very-long-directory-name-'.repeat(6)}/${'and-a-long-file-name-'.repeat(8)}.txt`;

/** A tree with what a configuration directory holds, and the awkward cases. */
async function makeTree(root: string): Promise<string> {
  const t = join(root, 'config');
  mkdirSync(join(t, 'nginx', 'sites'), { recursive: true });
  mkdirSync(join(t, 'empty-dir'));
  writeFileSync(join(t, '.env'), 'DATABASE_URL=postgres://app@db/lms\nSECRET_KEY=s3cr3t\n');
  chmodSync(join(t, '.env'), 0o600);
  writeFileSync(join(t, 'nginx', 'nginx.conf'), 'server { listen 80; }\n');
  writeFileSync(join(t, 'nginx', 'sites', 'lms.conf'), 'location / { proxy_pass http://app; }\n');
  writeFileSync(join(t, 'run.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(join(t, 'run.sh'), 0o755);
  writeFileSync(join(t, 'résumé – ünïcode 日本.txt'), 'non-ASCII name\n');
  mkdirSync(join(t, LONG, '..'), { recursive: true });
  writeFileSync(join(t, LONG), 'a path over 100 bytes\n');
  writeFileSync(join(t, 'empty-file'), '');
  symlinkSync('nginx/nginx.conf', join(t, 'current.conf'));
  symlinkSync(`/nonexistent/${'x'.repeat(120)}`, join(t, 'dangling-long-link'));
  const bin = Buffer.alloc(3 * 1024 * 1024 + 17);
  for (let i = 0; i < bin.length; i++) bin[i] = (i * 31 + (i >> 9)) & 0xff;
  writeFileSync(join(t, 'upload.bin'), bin);
  writeFileSync(join(t, 'sparse.img'), '');
  truncateSync(join(t, 'sparse.img'), 50 * 1024 * 1024);
  writeFileSync(join(t, 'skip-me.log'), 'excluded\n');
  execFileSync('mkfifo', [join(t, 'a-fifo')]);
  const sock = join(t, 'app.sock');
  const server = createServer();
  await new Promise<void>((r) => server.listen(sock, r));
  servers.push(server);
  return t;
}

async function archive(
  roots: string[],
  excludes: string[] = [],
): Promise<{ bytes: Buffer; summary: FilesSummary }> {
  const summary = emptySummary(roots, excludes);
  const chunks: Buffer[] = [];
  for await (const c of archiveFiles(roots, excludes, summary)) chunks.push(c);
  return { bytes: Buffer.concat(chunks), summary };
}

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

describe('pax tar writer', () => {
  it('writes an archive GNU tar extracts identically: modes, mtimes, symlinks, long and non-ASCII names', async () => {
    const root = mk();
    const tree = await makeTree(root);
    const { bytes, summary } = await archive([tree], ['*.log']);
    expect(bytes.length % 512).toBe(0);
    const rel = tree.slice(1);
    // Sockets and FIFOs are skipped with a note; the excluded file is not in the index.
    expect(summary.skipped.map((s) => s.path).sort()).toEqual([`${rel}/a-fifo`, `${rel}/app.sock`]);
    expect(summary.skipped.find((s) => s.path.endsWith('app.sock'))?.reason).toMatch(/socket/);
    expect(summary.index.some((e) => e.path.endsWith('skip-me.log'))).toBe(false);
    expect(summary.changed).toEqual([]);

    const out = mk();
    const archiveFile = join(root, 'a.tar');
    writeFileSync(archiveFile, bytes);
    // GNU tar reads it without a warning.
    const listing = execFileSync('tar', ['-tvf', archiveFile], { encoding: 'utf8' });
    expect(listing).toContain('résumé – ünïcode 日本.txt');
    execFileSync('tar', ['-xpf', archiveFile, '-C', out, '--warning=all']);
    for (const e of summary.index) {
      const p = join(out, e.path);
      const st = lstatSync(p);
      if (e.type === 'symlink') {
        expect(st.isSymbolicLink()).toBe(true);
        expect(readlinkSync(p)).toBe(e.target);
        continue;
      }
      expect((st.mode & 0o7777).toString(8).padStart(4, '0')).toBe(e.mode);
      expect(Math.floor(st.mtimeMs / 1000)).toBe(Math.floor(Date.parse(e.mtime) / 1000));
      if (e.type === 'file') {
        expect(st.size).toBe(e.size);
        expect(sha(p)).toBe(e.sha256);
        expect(sha(join('/', e.path))).toBe(e.sha256);
      } else expect(st.isDirectory()).toBe(true);
    }
    // diff -r: the extracted tree is the original, minus what was skipped or excluded.
    const diff = spawnSync(
      'diff',
      [
        '-r',
        '--no-dereference',
        '--exclude=a-fifo',
        '--exclude=app.sock',
        '--exclude=*.log',
        tree,
        join(out, rel),
      ],
      { encoding: 'utf8' },
    );
    expect(diff.stdout + diff.stderr).toBe('');
    expect(diff.status).toBe(0);
  }, 60_000);

  it('reads an archive GNU tar wrote (pax format) and its own, equal to the index', async () => {
    const root = mk();
    const tree = await makeTree(root);
    const { bytes, summary } = await archive([tree], ['*.log']);
    const ours = await checkArchive(Readable.from([bytes]), summary.index);
    expect(ours.problems).toEqual([]);
    expect(ours.filesOk).toBe(summary.files);

    // GNU tar's own pax archive of the same tree (relative names: -C /), read by our reader.
    const gnu = join(root, 'gnu.tar');
    execFileSync('tar', [
      '--format=pax',
      '-cf',
      gnu,
      '-C',
      '/',
      '--exclude=*.log',
      '--exclude=a-fifo',
      '--exclude=app.sock',
      tree.slice(1),
    ]);
    const seen = new Map<string, string>();
    await readTar(createReadStream(gnu), async (entry, body) => {
      const h = createHash('sha256');
      for await (const c of body) h.update(c);
      seen.set(entry.header.path, entry.header.type === 'file' ? h.digest('hex') : entry.header.type);
    });
    for (const e of summary.index) {
      expect(seen.get(e.path), e.path).toBe(e.type === 'file' ? e.sha256 : e.type);
    }
    expect(seen.size).toBe(summary.index.length);
  }, 60_000);

  it('extracts into a directory, keeping a sparse file sparse, and refuses paths that leave it', async () => {
    const root = mk();
    const tree = await makeTree(root);
    const { bytes, summary } = await archive([tree], ['*.log']);
    const out = mk();
    const r = await extractArchive(Readable.from([bytes]), summary.index, out);
    expect(r.problems).toEqual([]);
    const tree2 = await compareTree(out, summary.index);
    expect(tree2.problems).toEqual([]);
    expect(tree2.filesOk).toBe(summary.files);
    const sparse = lstatSync(join(out, tree.slice(1), 'sparse.img'));
    expect(sparse.size).toBe(50 * 1024 * 1024);
    expect(sparse.blocks * 512).toBeLessThan(1024 * 1024);

    // A crafted archive whose entry climbs out with ../ is refused, nothing written outside.
    const evilIndex = [
      { path: '../evil.txt', type: 'file' as const, size: 4, mode: '0644', uid: 0, gid: 0, mtime: '' },
    ];
    const { encodeHeader, bodyPadding, endOfArchive } = await import('../../src/files/tar.js');
    const evil = Buffer.concat([
      encodeHeader({ path: '../evil.txt', type: 'file', mode: 0o644, uid: 0, gid: 0, size: 4, mtime: 1 }),
      Buffer.from('evil'),
      bodyPadding(4),
      endOfArchive(),
    ]);
    const target = join(mk(), 'inner');
    const e = await extractArchive(Readable.from([evil]), evilIndex, target);
    expect(e.problems.join('\n')).toMatch(/refused/);
    expect(() => lstatSync(join(target, '..', 'evil.txt'))).toThrow();
  }, 60_000);

  it('reports a flipped byte: a digest or header checksum differs', async () => {
    const root = mk();
    const tree = await makeTree(root);
    const { bytes, summary } = await archive([tree], ['*.log']);
    // Flip a byte inside .env's body (the first file body in the archive).
    const at = bytes.indexOf(Buffer.from('SECRET_KEY'));
    expect(at).toBeGreaterThan(0);
    const bad = Buffer.from(bytes);
    bad[at] = bad[at]! ^ 0x01;
    const r = await checkArchive(Readable.from([bad]), summary.index);
    expect(r.problems.join('\n')).toMatch(/\.env: SHA-256 [0-9a-f]{64} in the archive; the index says/);
    // A flipped byte in a header fails its checksum.
    const bad2 = Buffer.from(bytes);
    const header = bytes.indexOf(Buffer.from('ustar\u000000')) - 257;
    bad2[header + 1] = bad2[header + 1]! ^ 0x20;
    await expect(checkArchive(Readable.from([bad2]), summary.index)).rejects.toThrow(/checksum/);
  }, 60_000);

  it('reports a file that changes while it is read', async () => {
    const root = mk();
    const dir = join(root, 'growing');
    mkdirSync(dir);
    const file = join(dir, 'log.txt');
    writeFileSync(file, Buffer.alloc(8 * 1024 * 1024, 0x61));
    const summary = emptySummary([dir], []);
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of archiveFiles([dir], [], summary)) {
      chunks.push(c);
      // After the first chunk of the file body, the application appends to it.
      if (++n === 3) writeFileSync(file, 'more\n', { flag: 'a' });
    }
    expect(summary.changed.map((c) => c.path)).toEqual([file.slice(1)]);
    expect(summary.changed[0]!.detail).toMatch(/size changed from 8388608 to 8388613/);
    const r = await checkArchive(Readable.from([Buffer.concat(chunks)]), summary.index);
    expect(r.problems).toEqual([]);
  });

  it('matches exclusions by base name or whole path', () => {
    const ex = excluder(['*.log', 'srv/app/cache/**', 'node_modules']);
    expect(ex('srv/app/a.log')).toBe(true);
    expect(ex('srv/app/cache/x/y')).toBe(true);
    expect(ex('srv/app/node_modules')).toBe(true);
    expect(ex('srv/app/a.log.txt')).toBe(false);
    expect(ex('srv/app/cachefile')).toBe(false);
  });
});
