/**
 * Data offsets for a custom-format archive that pg_dump wrote into a pipe.
 *
 * pg_dump -Fc records, in each table-of-contents entry, where that entry's data block starts,
 * but only when its output is a file it can seek back in: it writes the TOC, the data, then the
 * TOC again with the offsets. Our dumps go through a pipe (into zstd, age, the staged file), so
 * every entry says "position not set". pg_restore copes by reading block headers from wherever
 * its file position is until it meets the block it wants, and with `-j N` each worker does that
 * on its own copy of the archive: at -Z0 every row is a chunk of its own, so the workers walk
 * millions of chunk headers between them before the data they came for.
 *
 * `writeDataOffsets` walks the data blocks once, in one sequential read, and writes each block's
 * position into its entry in place: the same 1 + offSize bytes (flag "position set", then the
 * offset, least significant byte first) that pg_dump itself writes when it can seek, so the
 * file becomes the archive pg_dump would have written to a file. Nothing else changes; the
 * stored object, its checksums and the runbook are untouched (this runs on the drill's or
 * restore's own decrypted copy). Any archive this does not fully understand (another format,
 * an unknown version, a block it cannot account for, a truncated file) is left exactly as it
 * was, with the reason: pg_restore then reads it the slow way, as before.
 *
 * The layout followed (pg_backup_archiver.c WriteHead/WriteToc, pg_backup_custom.c):
 * header `PGDMP`, version major/minor/rev, intSize, offSize, format (1 = custom), compression
 * (a byte from 1.15, an int before), seven ints of creation time, three strings; then the
 * entry count and the entries; then the data blocks: a type byte (1 data, 3 large objects), the
 * entry's dump id, and chunks (int length, bytes) up to a zero length, the large objects'
 * chunks each after its oid, up to an oid of zero. An int is a sign byte and intSize bytes, least
 * significant first; a string is an int length (-1 for none) and its bytes.
 */
import { open } from 'node:fs/promises';

/** Archive versions whose TOC layout this reads: 1.12 (PostgreSQL 11) to 1.16 (PostgreSQL 17, 18). */
const MIN_VERSION = version(1, 12, 0);
const MAX_VERSION = version(1, 16, 255);
const FORMAT_CUSTOM = 1;
const BLK_DATA = 1;
const BLK_BLOBS = 3;
const K_OFFSET_POS_NOT_SET = 1;
const K_OFFSET_POS_SET = 2;
const K_OFFSET_NO_DATA = 3;
const WINDOW = 4 * 1024 * 1024;

function version(major: number, minor: number, rev: number): number {
  return (major * 256 + minor) * 256 + rev;
}

export type DataOffsets =
  /** Offsets written: `set` entries of `entries` with data (the rest already had theirs). */
  | { written: true; entries: number; set: number }
  /** The file is unchanged: why. */
  | { written: false; reason: string };

/** Not an archive this reads: the message says why; the file is left as it is. */
class Unreadable extends Error {}

/** A sequential reader over a file through a reused window; skips past the window seek ahead. */
class Window {
  private readonly buf = Buffer.allocUnsafe(WINDOW);
  /** File offset of buf[0]. */
  private start = 0;
  private len = 0;
  private at = 0;
  private eof = false;

  constructor(private readonly fh: Awaited<ReturnType<typeof open>>) {}

  get position(): number {
    return this.start + this.at;
  }

  /** Whether n bytes are in the window at the read position (no read). */
  has(n: number): boolean {
    return this.at + n <= this.len;
  }

  /**
   * Makes n bytes (a few: an int, an offset, the header's start; strings are skipped, never
   * read) available at the read position; false at the end of the file.
   */
  async need(n: number): Promise<boolean> {
    if (this.at + n <= this.len) return true;
    if (this.eof) return false;
    this.buf.copy(this.buf, 0, this.at, this.len);
    this.start += this.at;
    this.len -= this.at;
    this.at = 0;
    while (this.len < n && !this.eof) {
      const { bytesRead } = await this.fh.read(
        this.buf,
        this.len,
        this.buf.length - this.len,
        this.start + this.len,
      );
      if (bytesRead === 0) this.eof = true;
      this.len += bytesRead;
    }
    return this.len >= n;
  }

  /** The byte at the read position (need(1) first). */
  byte(): number {
    return this.buf[this.at++]!;
  }

  /** An archive int (need(1 + intSize) first). */
  int(intSize: number): number {
    const { buf, at } = this;
    // Every pg_dump since 7.1 writes 4-byte ints; the general case only for the odd archive.
    const value = intSize === 4 ? buf.readUInt32LE(at + 1) : buf.readUIntLE(at + 1, intSize);
    this.at = at + 1 + intSize;
    return buf[at] === 0 ? value : -value;
  }

  /**
   * Skips chunks (int length, bytes) up to a zero length as far as the window goes: true when it
   * read the zero length, false when the window ran out first (need() more, then again). At -Z0
   * every row is a chunk: millions of them, so this loop is the whole cost of the walk.
   */
  skipChunksInWindow(intSize: number, what: string): boolean {
    const { buf, len } = this;
    const step = 1 + intSize;
    let at = this.at;
    while (at + step <= len) {
      const n =
        intSize === 4
          ? (buf[at + 1]! | (buf[at + 2]! << 8) | (buf[at + 3]! << 16)) + buf[at + 4]! * 0x1000000
          : buf.readUIntLE(at + 1, intSize);
      if (buf[at] !== 0 && n !== 0) throw new Unreadable(`a chunk of ${what} has length -${n}`);
      at += step;
      if (n === 0) {
        this.at = at;
        return true;
      }
      at += n;
      if (at > len) {
        // The chunk ends past the window: read on from its end.
        this.start += at;
        this.at = 0;
        this.len = 0;
        this.eof = false;
        return false;
      }
    }
    this.at = at;
    return false;
  }

  skip(n: number): void {
    if (this.at + n <= this.len) {
      this.at += n;
      return;
    }
    // Past the window: read on from there.
    this.start += this.at + n;
    this.at = 0;
    this.len = 0;
    this.eof = false;
  }
}

interface Reader {
  w: Window;
  intSize: number;
}

async function readInt(r: Reader, what: string): Promise<number> {
  if (!(await r.w.need(1 + r.intSize))) throw new Unreadable(`the archive ends inside ${what}`);
  return r.w.int(r.intSize);
}

/** Skips a string; false when it was the "no string" marker (length -1). */
async function skipStr(r: Reader, what: string): Promise<boolean> {
  const len = await readInt(r, what);
  if (len < 0) return false;
  r.w.skip(len);
  return true;
}

interface Entry {
  dumpId: number;
  /** File offset of the entry's offset flag byte. */
  flagAt: number;
  state: number;
}

/** Reads the TOC (after the header): each entry's dump id, data state and where its offset field is. */
async function readToc(r: Reader & { offSize: number }, ver: number): Promise<Entry[]> {
  const count = await readInt(r, 'the entry count');
  if (count < 0) throw new Unreadable(`the entry count is ${count}`);
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const where = `TOC entry ${i + 1} of ${count}`;
    const dumpId = await readInt(r, where);
    if (dumpId <= 0) throw new Unreadable(`${where} has dump id ${dumpId}`);
    await readInt(r, where); // had a data dumper
    for (const _ of ['tableoid', 'oid', 'tag', 'desc']) await skipStr(r, where);
    await readInt(r, where); // section
    for (const _ of ['defn', 'dropStmt', 'copyStmt', 'namespace', 'tablespace']) await skipStr(r, where);
    if (ver >= version(1, 14, 0)) await skipStr(r, where); // table access method
    if (ver >= version(1, 16, 0)) await readInt(r, where); // relkind
    await skipStr(r, where); // owner
    await skipStr(r, where); // "false" (with oids)
    while (await skipStr(r, `the dependencies of ${where}`)) {
      // one dependency
    }
    if (!(await r.w.need(1 + r.offSize))) throw new Unreadable(`the archive ends inside ${where}`);
    const flagAt = r.w.position;
    const state = r.w.byte();
    if (state !== K_OFFSET_POS_NOT_SET && state !== K_OFFSET_POS_SET && state !== K_OFFSET_NO_DATA) {
      throw new Unreadable(`${where} has data state ${state}`);
    }
    r.w.skip(r.offSize);
    entries.push({ dumpId, flagAt, state });
  }
  return entries;
}

/** Skips one run of chunks (int length, bytes) up to its zero length. */
async function skipChunks(r: Reader, what: string): Promise<void> {
  while (!r.w.skipChunksInWindow(r.intSize, what)) {
    if (!(await r.w.need(1 + r.intSize))) throw new Unreadable(`the archive ends inside ${what}`);
  }
}

/** The archive's entries waiting for an offset, and where each one's data block starts. */
async function findDataBlocks(
  w: Window,
): Promise<{ offSize: number; unset: Map<number, Entry>; found: Map<number, number>; entries: number }> {
  if (!(await w.need(11))) throw new Unreadable('the file is too short for an archive header');
  const magic = [0, 1, 2, 3, 4].map(() => String.fromCharCode(w.byte())).join('');
  if (magic !== 'PGDMP') throw new Unreadable('not a pg_dump archive (no PGDMP header)');
  const ver = version(w.byte(), w.byte(), w.byte());
  if (ver < MIN_VERSION || ver > MAX_VERSION) {
    throw new Unreadable(
      `archive version ${ver >> 16}.${(ver >> 8) & 255}.${ver & 255} is outside the versions read (1.12 to 1.16)`,
    );
  }
  const intSize = w.byte();
  const offSize = w.byte();
  if (intSize < 1 || intSize > 6 || offSize < 1 || offSize > 8) {
    throw new Unreadable(`integer size ${intSize} or offset size ${offSize} is not one this reads`);
  }
  const format = w.byte();
  if (format !== FORMAT_CUSTOM) throw new Unreadable(`archive format ${format} is not custom (-Fc)`);
  const r = { w, intSize, offSize };
  if (ver >= version(1, 15, 0)) {
    if (!(await w.need(1))) throw new Unreadable('the archive ends inside its header');
    w.byte(); // compression algorithm
  } else await readInt(r, 'the header');
  for (let i = 0; i < 7; i++) await readInt(r, 'the header'); // creation time
  for (let i = 0; i < 3; i++) await skipStr(r, 'the header'); // database, server and pg_dump versions
  const toc = await readToc(r, ver);
  const entries = toc.filter((e) => e.state !== K_OFFSET_NO_DATA).length;
  const unset = new Map(toc.filter((e) => e.state === K_OFFSET_POS_NOT_SET).map((e) => [e.dumpId, e]));
  const found = new Map<number, number>();
  // An archive pg_dump wrote into a file already has them all: no walk.
  if (unset.size === 0) return { offSize, unset, found, entries };

  const intBytes = 1 + intSize;
  while (await w.need(1)) {
    const at = w.position;
    const type = w.byte();
    if (type !== BLK_DATA && type !== BLK_BLOBS) {
      throw new Unreadable(`a data block at offset ${at} has type ${type}`);
    }
    const id = await readInt(r, `the data block at offset ${at}`);
    if (!unset.has(id) || found.has(id)) {
      throw new Unreadable(`the data block at offset ${at} belongs to no entry waiting for one (id ${id})`);
    }
    found.set(id, at);
    const what = `the data of entry ${id}`;
    if (type === BLK_DATA) await skipChunks(r, what);
    else {
      for (;;) {
        if (!(await w.need(intBytes))) throw new Unreadable(`the archive ends inside ${what}`);
        const oid = w.int(intSize);
        if (oid === 0) break;
        await skipChunks(r, what);
      }
    }
  }
  const missing = unset.size - found.size;
  if (missing > 0)
    throw new Unreadable(`${missing} entr${missing === 1 ? 'y has' : 'ies have'} no data block`);
  return { offSize, unset, found, entries };
}

/**
 * Writes the data offsets pg_dump could not write into a custom-format archive at `path`
 * (see the module comment). Leaves the file unchanged, and says why, when it does not
 * recognise every part of it; throws only when the file cannot be opened or written.
 */
export async function writeDataOffsets(path: string): Promise<DataOffsets> {
  const fh = await open(path, 'r+');
  try {
    let blocks: Awaited<ReturnType<typeof findDataBlocks>>;
    try {
      blocks = await findDataBlocks(new Window(fh));
    } catch (error) {
      if (error instanceof Unreadable) return { written: false, reason: error.message };
      throw error;
    }
    const { offSize, unset, found, entries } = blocks;
    // Each entry's flag and offset, as pg_dump writes them when it can seek back.
    const field = Buffer.alloc(1 + offSize);
    for (const [id, at] of found) {
      field[0] = K_OFFSET_POS_SET;
      for (let b = 0; b < offSize; b++) field[1 + b] = Math.floor(at / 2 ** (8 * b)) & 0xff;
      await fh.write(field, 0, field.length, unset.get(id)!.flagAt);
    }
    return { written: true, entries, set: found.size };
  } finally {
    await fh.close();
  }
}
