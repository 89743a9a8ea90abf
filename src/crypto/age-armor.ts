/**
 * Incremental decoder of age's ASCII armor (`age -a`): strict PEM with the label
 * "AGE ENCRYPTED FILE", 64-column padded base64, whitespace allowed only around the block, LF or
 * CRLF line endings (age-encryption.org/v1, "ASCII armor").
 */
import { AgeHeaderError, AgeTruncatedError } from './errors.js';

export const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';
const ARMOR_END = '-----END AGE ENCRYPTED FILE-----';
const COLUMNS = 64;
const PADDED_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function malformed(what: string): AgeHeaderError {
  return new AgeHeaderError(`The ASCII-armored age file is malformed: ${what}`, {
    hint: 'The armored text was damaged or edited (e.g. re-wrapped or with added characters). Use another copy.',
  });
}

export class ArmorDecoder {
  private pending = '';
  private state: 'begin' | 'body' | 'after' = 'begin';
  /** A short (or padded) line was seen: only the END line may follow. */
  private bodyEnded = false;
  private lineNo = 0;

  /** Decoded bytes of the complete lines in `chunk` (and any carried-over partial line). */
  feed(chunk: Buffer): Buffer[] {
    this.pending += chunk.toString('latin1');
    const out: Buffer[] = [];
    for (let nl = this.pending.indexOf('\n'); nl >= 0; nl = this.pending.indexOf('\n')) {
      this.line(this.pending.slice(0, nl), out);
      this.pending = this.pending.slice(nl + 1);
    }
    if (this.pending.length > 4 * COLUMNS && this.pending.trim() !== '') {
      throw malformed(`line ${this.lineNo + 1} is longer than 64 columns`);
    }
    return out;
  }

  /** Completes decoding at end of input; throws when the END line never came. */
  end(): Buffer[] {
    const out: Buffer[] = [];
    // A last line without its newline counts only if it is the END line (or trailing text after
    // it); anything else is a line cut off mid-way.
    const last = this.pending.endsWith('\r') ? this.pending.slice(0, -1) : this.pending;
    if (this.pending !== '' && (this.state === 'after' || (this.state === 'body' && last === ARMOR_END))) {
      this.line(this.pending, out);
    }
    this.pending = '';
    if (this.state !== 'after') {
      throw new AgeTruncatedError('The ASCII-armored age file ends before its END line: it was cut off');
    }
    return out;
  }

  private line(raw: string, out: Buffer[]): void {
    this.lineNo++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (this.state === 'begin') {
      if (line.trim() === '') return;
      if (line.trimStart() !== ARMOR_BEGIN) throw malformed('it does not start with the BEGIN line');
      this.state = 'body';
      return;
    }
    if (this.state === 'after') {
      if (line.trim() !== '') throw malformed('text follows the END line');
      return;
    }
    if (line === ARMOR_END) {
      if (this.lineNo === 2) throw malformed('no data between BEGIN and END');
      this.state = 'after';
      return;
    }
    if (this.bodyEnded) throw malformed(`line ${this.lineNo} follows the last (short) line`);
    if (line.length === 0 || line.length > COLUMNS || line.length % 4 !== 0 || !PADDED_BASE64.test(line)) {
      throw malformed(`line ${this.lineNo} is not 64-column base64`);
    }
    const bytes = Buffer.from(line, 'base64');
    if (bytes.toString('base64') !== line) throw malformed(`line ${this.lineNo} is not canonical base64`);
    if (line.length < COLUMNS || line.endsWith('=')) this.bodyEnded = true;
    out.push(bytes);
  }
}
