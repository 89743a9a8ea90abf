/**
 * Reading a files archive back: checking every entry against the manifest's index (verify), and
 * extracting it into a directory (drill, restore), refusing paths that would leave it.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import {
  chmod,
  lchown,
  lstat,
  lutimes,
  mkdir,
  open,
  readdir,
  realpath,
  rm,
  symlink,
  utimes,
} from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { FileIndexEntry } from './archive.js';
import { readTar, type TarEntry } from './tar.js';

export interface ArchiveCheck {
  /** Entries read from the archive. */
  entries: number;
  /** Files whose bytes hashed equal to the index. */
  filesOk: number;
  problems: string[];
}

function matchesPrefix(path: string, prefix: string | undefined): boolean {
  if (!prefix) return true;
  const p = prefix.replace(/^\/+/, '').replace(/\/+$/, '');
  return p === '' || path === p || path.startsWith(`${p}/`);
}

function indexMap(index: readonly FileIndexEntry[]): Map<string, FileIndexEntry> {
  return new Map(index.map((e) => [e.path, e]));
}

function compareHeader(
  entry: TarEntry,
  want: FileIndexEntry | undefined,
  problems: string[],
): want is FileIndexEntry {
  const h = entry.header;
  if (!want) {
    problems.push(`${h.path}: in the archive but not in the manifest's index`);
    return false;
  }
  if (want.type !== h.type)
    problems.push(`${h.path}: a ${h.type} in the archive; the index says ${want.type}`);
  const mode = (h.mode & 0o7777).toString(8).padStart(4, '0');
  if (mode !== want.mode)
    problems.push(`${h.path}: mode ${mode} in the archive; the index says ${want.mode}`);
  if (h.type === 'file' && h.size !== want.size)
    problems.push(`${h.path}: ${h.size} bytes in the archive; the index says ${want.size}`);
  if (h.type === 'symlink' && h.linkpath !== want.target)
    problems.push(`${h.path}: links to ${h.linkpath} in the archive; the index says ${want.target}`);
  return true;
}

async function hashBody(body: AsyncIterable<Buffer>): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const c of body) {
    hash.update(c);
    bytes += c.length;
  }
  return { sha256: hash.digest('hex'), bytes };
}

function missingFromArchive(
  index: Map<string, FileIndexEntry>,
  seen: Set<string>,
  prefix?: string,
): string[] {
  const out: string[] = [];
  for (const p of index.keys()) if (!seen.has(p) && matchesPrefix(p, prefix)) out.push(p);
  return out.map((p) => `${p}: in the manifest's index but not in the archive`);
}

/** Reads the whole tar stream, hashing every file, and compares it with the index. */
export async function checkArchive(
  tar: AsyncIterable<Buffer>,
  index: readonly FileIndexEntry[],
): Promise<ArchiveCheck> {
  const want = indexMap(index);
  const seen = new Set<string>();
  const problems: string[] = [];
  let filesOk = 0;
  const r = await readTar(tar, async (entry, body) => {
    seen.add(entry.header.path);
    const w = want.get(entry.header.path);
    if (!compareHeader(entry, w, problems)) return;
    if (entry.header.type !== 'file') return;
    const got = await hashBody(body);
    if (got.sha256 !== w.sha256) {
      problems.push(`${entry.header.path}: SHA-256 ${got.sha256} in the archive; the index says ${w.sha256}`);
    } else filesOk++;
  });
  problems.push(...missingFromArchive(want, seen));
  return { entries: r.entries, filesOk, problems };
}

export interface ExtractResult extends ArchiveCheck {
  /** Where the entries went. */
  dir: string;
  written: number;
}

/** The directory is missing or holds nothing. */
export async function isEmptyDir(dir: string): Promise<boolean> {
  if (!existsSync(dir)) return true;
  return (await readdir(dir)).length === 0;
}

/**
 * Extracts the archive into `dir` (only entries under `prefix`, when given): modes, mtimes,
 * symlinks, owners when running as root. Each file is hashed as it is written and compared with
 * the index. Zero-filled chunks are left as holes (a sparse file stays sparse). An entry whose
 * path would leave `dir` (.., or through a symlink) is refused. `overwrite`: replace what exists.
 */
export async function extractArchive(
  tar: AsyncIterable<Buffer>,
  index: readonly FileIndexEntry[],
  dir: string,
  options: { prefix?: string; overwrite?: boolean } = {},
): Promise<ExtractResult> {
  const root = resolve(dir);
  await mkdir(root, { recursive: true });
  const realRoot = await realpath(root);
  const want = indexMap(index);
  const seen = new Set<string>();
  const problems: string[] = [];
  const dirs: { path: string; mode: number; mtime: number }[] = [];
  const asRoot = process.getuid?.() === 0;
  let filesOk = 0;
  let written = 0;

  const inside = async (target: string) => {
    const parent = await realpath(dirname(target));
    return parent === realRoot || parent.startsWith(realRoot + sep);
  };
  const clear = async (target: string) => {
    const st = await lstat(target).catch(() => undefined);
    if (!st) return;
    if (st.isDirectory()) return;
    await rm(target, { force: true });
  };

  const r = await readTar(tar, async (entry, body) => {
    const h = entry.header;
    if (!matchesPrefix(h.path, options.prefix)) return;
    seen.add(h.path);
    const w = want.get(h.path);
    if (!compareHeader(entry, w, problems)) return;
    if (h.path.split('/').some((s) => s === '..' || s === '') || h.path.startsWith('/')) {
      problems.push(`${h.path}: refused, the path would leave ${root}`);
      return;
    }
    const target = join(root, h.path);
    await mkdir(dirname(target), { recursive: true });
    if (!(await inside(target))) {
      problems.push(`${h.path}: refused, a symbolic link would lead it out of ${root}`);
      return;
    }
    if (h.type === 'dir') {
      await mkdir(target, { recursive: true, mode: 0o700 });
      dirs.push({ path: target, mode: h.mode, mtime: h.mtime });
      written++;
      return;
    }
    if (options.overwrite) await clear(target);
    if (h.type === 'symlink') {
      await symlink(h.linkpath ?? '', target);
      if (asRoot) await lchown(target, h.uid, h.gid).catch(() => {});
      await lutimes(target, h.mtime, h.mtime).catch(() => {});
      written++;
      return;
    }
    const fh = await open(target, 'wx', 0o600);
    const hash = createHash('sha256');
    let pos = 0;
    try {
      for await (const c of body) {
        hash.update(c);
        // Leave holes for zeros: the 1 GiB sparse file of a test stays small on disk.
        if (!isZero(c)) await fh.write(c, 0, c.length, pos);
        pos += c.length;
      }
      await fh.truncate(pos);
      if (asRoot) await fh.chown(h.uid, h.gid).catch(() => {});
      await fh.chmod(h.mode);
    } finally {
      await fh.close();
    }
    await utimes(target, h.mtime, h.mtime);
    written++;
    const sha = hash.digest('hex');
    if (sha !== w.sha256) problems.push(`${h.path}: SHA-256 ${sha} as extracted; the index says ${w.sha256}`);
    else filesOk++;
  });
  // Deepest first: a directory's mode (read-only, say) and mtime are set after its contents.
  dirs.sort((a, b) => b.path.length - a.path.length);
  for (const d of dirs) {
    await chmod(d.path, d.mode);
    await utimes(d.path, d.mtime, d.mtime);
  }
  problems.push(...missingFromArchive(want, seen, options.prefix));
  return { entries: r.entries, filesOk, problems, dir: root, written };
}

function isZero(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/**
 * Compares what lies on disk under `dir` with the index (the drill's proof that the extracted
 * tree is the backed-up one): every entry present with its type and mode, every file's SHA-256.
 */
export async function compareTree(dir: string, index: readonly FileIndexEntry[]): Promise<ArchiveCheck> {
  const problems: string[] = [];
  let filesOk = 0;
  for (const e of index) {
    const p = join(dir, e.path);
    const st = await lstat(p).catch(() => undefined);
    if (!st) {
      problems.push(`${e.path}: not on disk after the restore`);
      continue;
    }
    const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other';
    if (type !== e.type) {
      problems.push(`${e.path}: a ${type} on disk; the index says ${e.type}`);
      continue;
    }
    const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
    if (type !== 'symlink' && mode !== e.mode)
      problems.push(`${e.path}: mode ${mode} on disk; the index says ${e.mode}`);
    if (type === 'file') {
      const got = await hashBody(createReadStream(p, { highWaterMark: 1 << 20 }));
      if (got.sha256 !== e.sha256)
        problems.push(`${e.path}: SHA-256 ${got.sha256} on disk; the index says ${e.sha256}`);
      else filesOk++;
    }
  }
  return { entries: index.length, filesOk, problems };
}
