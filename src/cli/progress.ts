import { formatBytes, formatDuration } from '../report/format.js';

/** The progress line being drawn, if any: a log line first ends it, so the two never run together. */
let active: ProgressLine | undefined;

/** Ends the progress line on screen (a newline) before other output; the next update redraws it. */
export function interruptProgress(): void {
  active?.interrupt();
}

export interface ProgressState {
  bytes: number;
  elapsedMs: number;
  /** The expected total (e.g. the last backup's dump), for a percentage and the time left. */
  estimatedBytes?: number;
}

/**
 * One progress line on a TTY: bytes so far (of the estimated total, with percent and time left
 * when there is an estimate), the rate, the time so far; all sizes in one unit system (KiB, MiB,
 * GiB, and the rate in the same units per second). Silent elsewhere. done() leaves the final
 * line on screen, ended by a newline.
 */
export class ProgressLine {
  private drawn = false;
  private last: { label: string; state: ProgressState } | undefined;
  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly enabled = Boolean(stream.isTTY),
  ) {}

  update(label: string, state: ProgressState): void {
    if (!this.enabled) return;
    this.last = { label, state };
    this.stream.write(`\r\x1b[2K${renderProgress(label, state)}`);
    this.drawn = true;
    active = this;
  }

  /** Another line is about to be written: end this one where it is. */
  interrupt(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }

  done(): void {
    if (this.enabled && this.last && !this.drawn)
      this.stream.write(renderProgress(this.last.label, this.last.state));
    if (this.enabled && this.last) this.stream.write('\n');
    this.drawn = false;
    this.last = undefined;
    if (active === this) active = undefined;
  }
}

export function renderProgress(label: string, s: ProgressState): string {
  const seconds = s.elapsedMs / 1000;
  const rate = seconds > 0 ? s.bytes / seconds : 0;
  const parts = [label];
  if (s.estimatedBytes && s.estimatedBytes > 0) {
    const pct = Math.min(99, Math.floor((s.bytes / s.estimatedBytes) * 100));
    parts.push(`${formatBytes(s.bytes)} of ~${formatBytes(s.estimatedBytes)} (${pct} %)`);
  } else parts.push(formatBytes(s.bytes));
  parts.push(`${formatBytes(Math.round(rate))}/s`, formatDuration(seconds));
  if (s.estimatedBytes && rate > 0 && s.bytes < s.estimatedBytes) {
    parts.push(`~${formatDuration((s.estimatedBytes - s.bytes) / rate)} left`);
  }
  return parts.join('  ');
}
