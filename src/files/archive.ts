/**
 * The files part of a backup: the paths given by `files` (configuration files, directories of
 * uploads) walked depth-first and written as one pax tar stream (src/files/tar.ts), with an index
 * of every entry (path, type, size, mode, SHA-256 of a file's bytes as archived). Paths are stored
 * as their absolute path without the leading '/', the way GNU tar stores them: /etc/nginx becomes
 * etc/nginx, restored under the chosen directory. Sockets, FIFOs and devices are skipped with a
 * note; a file whose size or mtime changes while it is read is archived as read and reported.
 */
import { createHash } from 'node:crypto';
import { lstatSync, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { FileIndexEntry } from '../catalog/types.js';
import { ConfigError } from '../errors.js';
import { bodyPadding, encodeHeader, endOfArchive, type TarType } from './tar.js';

/** Archive path (the absolute path without its leading '/'), type, size, mode, SHA-256 of a file. */
export type { FileIndexEntry };

export interface FilesSummary {
  /** The paths given, absolute. */
  roots: string[];
  excludes: string[];
  entries: number;
  files: number;
  /** Bytes of every file together. */
  bytes: number;
  index: FileIndexEntry[];
  /** Entries left out: sockets, FIFOs, devices, unreadable files. */
  skipped: { path: string; reason: string }[];
  /** Files that changed while they were read: archived as read. */
  changed: { path: string; detail: string }[];
}

/** A path to archive that does not exist or cannot be read (exit 2, nothing dumped). */
export class FilesPathError extends ConfigError {}

/** Resolves and checks the roots before anything is dumped. */
export function checkRoots(paths: readonly string[], name = 'files'): string[] {
  const roots: string[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    try {
      lstatSync(abs);
    } catch (error) {
      throw new FilesPathError(
        `${name}: ${p} ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(error as NodeJS.ErrnoException).code})`}`,
        { hint: `give files and directories that exist and this user can read, or remove ${p} from ${name}` },
      );
    }
    if (abs === '/') {
      throw new FilesPathError(`${name}: / is the whole file system`, {
        hint: 'give the directories that matter (/etc/nginx, /srv/app/uploads, …)',
      });
    }
    if (!roots.includes(abs)) roots.push(abs);
  }
  return roots;
}

/** A glob as a regular expression: `*` and `?` within a path segment, `**` across segments. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        const body = glob
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Matches a glob without '/' against the base name (like tar), else against the whole path. */
export function excluder(globs: readonly string[]): (archivePath: string) => boolean {
  const rules = globs.map((g) => {
    const trimmed = g.replace(/^\/+/, '').replace(/\/+$/, '');
    return { base: !trimmed.includes('/'), re: globToRegExp(trimmed) };
  });
  return (p) => {
    const base = p.slice(p.lastIndexOf('/') + 1);
    return rules.some((r) => r.re.test(r.base ? base : p));
  };
}

const CHUNK = 1 << 20;

function modeText(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

function typeOf(st: Stats): TarType | string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isSocket()) return 'a socket';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'of an unknown type';
}

/**
 * The archive as a stream of chunks (backpressure: the next chunk is read when the consumer
 * asks), filling `summary` as it goes. Memory: one chunk and one directory listing per level.
 */
export async function* archiveFiles(
  roots: readonly string[],
  excludes: readonly string[],
  summary: FilesSummary,
): AsyncGenerator<Buffer> {
  const excluded = excluder(excludes);
  const seen = new Set<string>();
  async function* visit(abs: string): AsyncGenerator<Buffer> {
    const path = abs.replace(/^\/+/, '');
    if (seen.has(path)) return;
    seen.add(path);
    if (excluded(path)) return;
    let st: Stats;
    try {
      st = await lstat(abs);
    } catch (error) {
      summary.skipped.push({ path, reason: `cannot be read (${(error as NodeJS.ErrnoException).code})` });
      return;
    }
    const kind = typeOf(st);
    if (kind !== 'file' && kind !== 'dir' && kind !== 'symlink') {
      summary.skipped.push({ path, reason: `is ${kind}: not archived` });
      return;
    }
    const type: TarType = kind;
    const entry: FileIndexEntry = {
      path,
      type,
      size: 0,
      mode: modeText(st.mode),
      uid: st.uid,
      gid: st.gid,
      mtime: st.mtime.toISOString(),
    };
    const header = { path, type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtimeMs / 1000 };
    if (type === 'symlink') {
      entry.target = await readlink(abs);
      summary.index.push(entry);
      summary.entries++;
      yield encodeHeader({ ...header, size: 0, linkpath: entry.target });
      return;
    }
    if (type === 'dir') {
      let names: string[];
      try {
        names = (await readdir(abs)).sort();
      } catch (error) {
        summary.skipped.push({
          path,
          reason: `directory cannot be listed (${(error as NodeJS.ErrnoException).code})`,
        });
        return;
      }
      summary.index.push(entry);
      summary.entries++;
      yield encodeHeader({ ...header, size: 0 });
      for (const n of names) yield* visit(`${abs}/${n}`);
      return;
    }
    // A regular file: the size taken now is the size archived.
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(abs, 'r');
    } catch (error) {
      summary.skipped.push({ path, reason: `cannot be opened (${(error as NodeJS.ErrnoException).code})` });
      return;
    }
    try {
      const size = st.size;
      entry.size = size;
      yield encodeHeader({ ...header, size });
      const hash = createHash('sha256');
      let done = 0;
      let short = false;
      while (done < size) {
        const want = Math.min(CHUNK, size - done);
        const buf = Buffer.allocUnsafe(want);
        const { bytesRead } = await fh.read(buf, 0, want, done);
        if (bytesRead === 0) {
          // Shrunk while read: the rest is zeros, so the archive stays well-formed.
          short = true;
          const zeros = Buffer.alloc(size - done);
          hash.update(zeros);
          done = size;
          yield zeros;
          break;
        }
        const chunk = bytesRead === want ? buf : buf.subarray(0, bytesRead);
        hash.update(chunk);
        done += bytesRead;
        yield chunk;
      }
      yield bodyPadding(size);
      entry.sha256 = hash.digest('hex');
      const after = await fh.stat();
      if (short || after.size !== size || after.mtimeMs !== st.mtimeMs) {
        summary.changed.push({
          path,
          detail: short
            ? `shrank from ${size} bytes while it was read (the rest archived as zeros)`
            : after.size !== size
              ? `its size changed from ${size} to ${after.size} bytes while it was read (${size} archived)`
              : 'it was modified while it was read (archived as read)',
        });
      }
      summary.index.push(entry);
      summary.entries++;
      summary.files++;
      summary.bytes += size;
    } finally {
      await fh.close();
    }
  }
  for (const root of roots) yield* visit(root);
  yield endOfArchive();
}

export function emptySummary(roots: readonly string[], excludes: readonly string[]): FilesSummary {
  return {
    roots: [...roots],
    excludes: [...excludes],
    entries: 0,
    files: 0,
    bytes: 0,
    index: [],
    skipped: [],
    changed: [],
  };
}
