import { formatBytes, formatDuration } from '../report/format.js';

/** A one-line progress display on a TTY (bytes, MB/s, elapsed); silent elsewhere. */
export class ProgressLine {
  private active = false;
  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly enabled = Boolean(stream.isTTY),
  ) {}

  update(label: string, bytes: number, elapsedMs: number): void {
    if (!this.enabled) return;
    const rate = elapsedMs > 0 ? bytes / 1024 / 1024 / (elapsedMs / 1000) : 0;
    this.stream.write(
      `\r\x1b[2K${label} ${formatBytes(bytes)}  ${rate.toFixed(1)} MB/s  ${formatDuration(elapsedMs / 1000)}`,
    );
    this.active = true;
  }

  done(): void {
    if (this.active) this.stream.write('\r\x1b[2K');
    this.active = false;
  }
}
