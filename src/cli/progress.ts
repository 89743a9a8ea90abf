/** A one-line progress display on a TTY (bytes, MB/s, elapsed); silent elsewhere. */
export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

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
      `\r\x1b[2K${label} ${formatBytes(bytes)}  ${rate.toFixed(1)} MB/s  ${formatDuration(elapsedMs)}`,
    );
    this.active = true;
  }

  done(): void {
    if (this.active) this.stream.write('\r\x1b[2K');
    this.active = false;
  }
}
