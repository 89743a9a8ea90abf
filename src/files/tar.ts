/**
 * A small streaming POSIX pax tar (IEEE 1003.1-2001 "pax", the format GNU tar, bsdtar and
 * busybox read): a ustar header per entry, preceded by a pax extended header ('x') when a value
 * does not fit ustar (a path over 100 bytes or not ASCII, a size of 8 GiB or more, sub-second
 * mtimes). Regular files, directories and symbolic links. Memory is constant: entries are written
 * and read chunk by chunk; a body is never held whole.
 */

export const BLOCK = 512;

export type TarType = 'file' | 'dir' | 'symlink';

export interface TarHeader {
  /** Relative path, '/'-separated, no leading '/'; directories without a trailing '/'. */
  path: string;
  type: TarType;
  /** Permission bits (07777). */
  mode: number;
  uid: number;
  gid: number;
  /** Body bytes (0 for directories and links). */
  size: number;
  /** Seconds since the epoch, with a fraction. */
  mtime: number;
  /** Symbolic link target. */
  linkpath?: string;
  uname?: string;
  gname?: string;
}

const USTAR_MAX_OCTAL_11 = 0o77777777777; // 8 GiB - 1
const USTAR_MAX_OCTAL_7 = 0o7777777;

function isPlainAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

function octal(buf: Buffer, offset: number, width: number, value: number): void {
  // width includes the terminating NUL.
  const s = Math.floor(value)
    .toString(8)
    .padStart(width - 1, '0');
  buf.write(s, offset, width - 1, 'ascii');
  buf[offset + width - 1] = 0;
}

/** One pax record: "<len> key=value\n", where len counts the whole record including itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + 1;
  while (bodyLen + String(len).length !== len) len = bodyLen + String(len).length;
  return `${len}${body}`;
}

function padding(size: number): number {
  const r = size % BLOCK;
  return r === 0 ? 0 : BLOCK - r;
}

function ustarHeader(h: {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  uname: string;
  gname: string;
}): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(h.name, 0, 100, 'utf8');
  octal(b, 100, 8, h.mode);
  octal(b, 108, 8, h.uid);
  octal(b, 116, 8, h.gid);
  octal(b, 124, 12, h.size);
  octal(b, 136, 12, h.mtime);
  b.fill(0x20, 148, 156); // checksum computed over spaces
  b.write(h.typeflag, 156, 1, 'ascii');
  b.write(h.linkname, 157, 100, 'utf8');
  b.write('ustar\u000000', 257, 8, 'ascii');
  b.write(h.uname, 265, 32, 'utf8');
  b.write(h.gname, 297, 32, 'utf8');
  octal(b, 329, 8, 0);
  octal(b, 337, 8, 0);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  b.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return b;
}

const TYPEFLAG: Record<TarType, string> = { file: '0', dir: '5', symlink: '2' };

/** The header block(s) of one entry: a pax 'x' header when needed, then the ustar header. */
export function encodeHeader(h: TarHeader): Buffer {
  const name = h.type === 'dir' ? `${h.path}/` : h.path;
  const records: string[] = [];
  const fits = (s: string) => isPlainAscii(s) && Buffer.byteLength(s) <= 100;
  if (!fits(name)) records.push(paxRecord('path', name));
  const link = h.linkpath ?? '';
  if (!fits(link)) records.push(paxRecord('linkpath', link));
  if (h.size > USTAR_MAX_OCTAL_11) records.push(paxRecord('size', String(h.size)));
  if (h.uid > USTAR_MAX_OCTAL_7) records.push(paxRecord('uid', String(h.uid)));
  if (h.gid > USTAR_MAX_OCTAL_7) records.push(paxRecord('gid', String(h.gid)));
  if (h.mtime !== Math.floor(h.mtime) || h.mtime < 0 || h.mtime > USTAR_MAX_OCTAL_11)
    records.push(paxRecord('mtime', formatMtime(h.mtime)));
  const uname = h.uname ?? '';
  const gname = h.gname ?? '';
  if (!isPlainAscii(uname) || uname.length > 31) records.push(paxRecord('uname', uname));
  if (!isPlainAscii(gname) || gname.length > 31) records.push(paxRecord('gname', gname));
  const asciiName = (s: string, max: number) => (isPlainAscii(s) && s.length <= max ? s : '');
  const main = ustarHeader({
    // When the path goes in the pax header, ustar holds a truncated ASCII stand-in.
    name: fits(name) ? name : asciiFallback(name),
    mode: h.mode & 0o7777,
    uid: Math.min(h.uid, USTAR_MAX_OCTAL_7),
    gid: Math.min(h.gid, USTAR_MAX_OCTAL_7),
    size: h.type === 'file' ? Math.min(h.size, USTAR_MAX_OCTAL_11) : 0,
    mtime: Math.min(Math.max(0, Math.floor(h.mtime)), USTAR_MAX_OCTAL_11),
    typeflag: TYPEFLAG[h.type],
    linkname: fits(link) ? link : asciiFallback(link),
    uname: asciiName(uname, 31),
    gname: asciiName(gname, 31),
  });
  if (records.length === 0) return main;
  const body = Buffer.from(records.join(''), 'utf8');
  const xh = ustarHeader({
    name: asciiFallback(`PaxHeaders/${name}`),
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: body.length,
    mtime: Math.min(Math.max(0, Math.floor(h.mtime)), USTAR_MAX_OCTAL_11),
    typeflag: 'x',
    linkname: '',
    uname: '',
    gname: '',
  });
  return Buffer.concat([xh, body, Buffer.alloc(padding(body.length)), main]);
}

function asciiFallback(s: string): string {
  const ascii = s.replace(/[^\x20-\x7e]/g, '_');
  return ascii.length <= 100 ? ascii : ascii.slice(ascii.length - 100);
}

function formatMtime(t: number): string {
  const s = t.toFixed(9).replace(/0+$/, '').replace(/\.$/, '');
  return s;
}

/** Zero bytes that end a body on a block boundary. */
export function bodyPadding(size: number): Buffer {
  return Buffer.alloc(padding(size));
}

/** The end of an archive: two zero blocks. */
export function endOfArchive(): Buffer {
  return Buffer.alloc(2 * BLOCK);
}

// ---------------------------------------------------------------------------------------------
// Reading

export class TarFormatError extends Error {}

/** Pulls exact byte counts from a chunked source, holding at most one chunk. */
class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private done = false;
  constructor(private readonly it: AsyncIterator<Buffer>) {}

  private async fill(): Promise<boolean> {
    if (this.done) return false;
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    const c = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
    this.buf = this.buf.length ? Buffer.concat([this.buf, c]) : c;
    return true;
  }

  /** Exactly n bytes (n is small: a header), or fewer at the end of the source. */
  async exact(n: number): Promise<Buffer> {
    while (this.buf.length < n) if (!(await this.fill())) break;
    const out = this.buf.subarray(0, Math.min(n, this.buf.length));
    this.buf = this.buf.subarray(out.length);
    return out;
  }

  /** Up to max bytes, at least one unless the source ended. */
  async some(max: number): Promise<Buffer> {
    if (this.buf.length === 0 && !(await this.fill())) return Buffer.alloc(0);
    const out = this.buf.subarray(0, Math.min(max, this.buf.length));
    this.buf = this.buf.subarray(out.length);
    return out;
  }

  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      const c = await this.some(left);
      if (c.length === 0) throw new TarFormatError('the archive ends inside an entry');
      left -= c.length;
    }
  }
}

function cstring(b: Buffer, start: number, len: number): string {
  const slice = b.subarray(start, start + len);
  const nul = slice.indexOf(0);
  return slice.subarray(0, nul < 0 ? len : nul).toString('utf8');
}

function readOctal(b: Buffer, start: number, len: number): number {
  // GNU base-256 for large numbers: high bit of the first byte set.
  if (b[start]! & 0x80) {
    let v = 0;
    for (let i = start + 1; i < start + len; i++) v = v * 256 + b[i]!;
    return v;
  }
  const s = cstring(b, start, len).trim();
  return s ? Number.parseInt(s, 8) : 0;
}

function parsePax(body: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < body.length) {
    const sp = body.indexOf(0x20, i);
    if (sp < 0) break;
    const len = Number.parseInt(body.subarray(i, sp).toString('ascii'), 10);
    if (!Number.isFinite(len) || len <= 0) throw new TarFormatError('a pax header record has no length');
    const rec = body.subarray(sp + 1, i + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    i += len;
  }
  return out;
}

export interface TarEntry {
  header: TarHeader;
  /** Entries of other types (devices, FIFOs, hard links) are reported by their typeflag. */
  typeflag: string;
}

/**
 * Reads a tar stream entry by entry; `onEntry` gets each entry with its body as an async
 * iterable, which it may read or ignore (the rest is skipped). Header checksums are checked.
 */
export async function readTar(
  source: AsyncIterable<Buffer>,
  onEntry: (entry: TarEntry, body: AsyncIterable<Buffer>) => Promise<void>,
): Promise<{ entries: number }> {
  const reader = new ByteReader(source[Symbol.asyncIterator]());
  let pax: Record<string, string> = {};
  let gnuLongName: string | undefined;
  let gnuLongLink: string | undefined;
  let entries = 0;
  let zeroBlocks = 0;
  for (;;) {
    const block = await reader.exact(BLOCK);
    if (block.length === 0) {
      if (zeroBlocks === 0 && entries === 0) throw new TarFormatError('the archive is empty');
      break;
    }
    if (block.length < BLOCK) throw new TarFormatError('the archive ends inside a header');
    if (block.every((x) => x === 0)) {
      zeroBlocks++;
      if (zeroBlocks === 2) break;
      continue;
    }
    zeroBlocks = 0;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
    const stored = readOctal(block, 148, 8);
    if (stored !== sum)
      throw new TarFormatError(`a header checksum is wrong (${stored} stored, ${sum} computed)`);
    const typeflag = String.fromCharCode(block[156]!) || '0';
    let size = readOctal(block, 124, 12);
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      const body = await reader.exact(size);
      if (body.length < size) throw new TarFormatError('the archive ends inside an extended header');
      await reader.skip(padding(size));
      if (typeflag === 'x') pax = { ...pax, ...parsePax(body) };
      else if (typeflag === 'L') gnuLongName = cstring(body, 0, body.length);
      else if (typeflag === 'K') gnuLongLink = cstring(body, 0, body.length);
      continue;
    }
    const prefix =
      block.subarray(257, 263).toString('ascii') === 'ustar\u0000' ? cstring(block, 345, 155) : '';
    let name =
      gnuLongName ?? pax.path ?? (prefix ? `${prefix}/${cstring(block, 0, 100)}` : cstring(block, 0, 100));
    if (pax.size !== undefined) size = Number(pax.size);
    const type: TarType | undefined =
      typeflag === '0' || typeflag === '\u0000' || typeflag === '7'
        ? 'file'
        : typeflag === '5'
          ? 'dir'
          : typeflag === '2'
            ? 'symlink'
            : undefined;
    if (name.endsWith('/')) name = name.replace(/\/+$/, '');
    const header: TarHeader = {
      path: name,
      type: type ?? 'file',
      mode: readOctal(block, 100, 8) & 0o7777,
      uid: pax.uid !== undefined ? Number(pax.uid) : readOctal(block, 108, 8),
      gid: pax.gid !== undefined ? Number(pax.gid) : readOctal(block, 116, 8),
      size,
      mtime: pax.mtime !== undefined ? Number(pax.mtime) : readOctal(block, 136, 12),
    };
    const link = gnuLongLink ?? pax.linkpath ?? cstring(block, 157, 100);
    if (link) header.linkpath = link;
    const uname = pax.uname ?? cstring(block, 265, 32);
    const gname = pax.gname ?? cstring(block, 297, 32);
    if (uname) header.uname = uname;
    if (gname) header.gname = gname;
    pax = {};
    gnuLongName = undefined;
    gnuLongLink = undefined;
    const bodySize = type === 'dir' || type === 'symlink' ? 0 : size;
    let left = bodySize;
    async function* body(): AsyncGenerator<Buffer> {
      while (left > 0) {
        const c = await reader.some(Math.min(left, 1 << 20));
        if (c.length === 0) throw new TarFormatError(`the archive ends inside ${name}`);
        left -= c.length;
        yield c;
      }
    }
    await onEntry({ header, typeflag }, body());
    await reader.skip(left);
    await reader.skip(padding(bodySize));
    entries++;
  }
  return { entries };
}
