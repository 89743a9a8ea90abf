/** The backup's progress line: one unit system, an estimate with percent and time left, and a newline at the end. */
import { describe, expect, it } from 'vitest';
import { interruptProgress, ProgressLine, renderProgress } from '../../src/cli/progress.js';

function tty() {
  const writes: string[] = [];
  const stream = { isTTY: true, write: (s: string) => writes.push(s) > 0 } as unknown as NodeJS.WriteStream;
  return { stream, text: () => writes.join('') };
}

describe('the progress line', () => {
  it('shows bytes of the estimate, percent, rate in the same units, time so far and left', () => {
    const line = renderProgress('dumping', {
      bytes: 300 * 1024 ** 2,
      elapsedMs: 10_000,
      estimatedBytes: 1200 * 1024 ** 2,
    });
    expect(line).toBe('dumping  300 MiB of ~1.17 GiB (25 %)  30.0 MiB/s  10 s  ~30 s left');
    // Without an estimate: no percentage is made up.
    expect(renderProgress('dumping', { bytes: 2048, elapsedMs: 2000 })).toBe(
      'dumping  2.00 KiB  1.00 KiB/s  2 s',
    );
    // An estimate that turns out short never shows 100 % before the end, nor negative time left.
    expect(renderProgress('dumping', { bytes: 5000, elapsedMs: 1000, estimatedBytes: 4000 })).toBe(
      'dumping  4.88 KiB of ~3.91 KiB (99 %)  4.88 KiB/s  1 s',
    );
  });

  it('ends with a newline, and a log line in between never runs into it', () => {
    const { stream, text } = tty();
    const p = new ProgressLine(stream, true);
    p.update('dumping', { bytes: 1024, elapsedMs: 1000 });
    interruptProgress(); // what the CLI logger does before each line
    stream.write('dumped 1024 bytes\n');
    p.update('dumping', { bytes: 4096, elapsedMs: 2000 });
    p.done();
    p.done(); // twice is harmless
    const out = text();
    expect(out).toMatch(/1\.00 KiB\/s {2}1 s\ndumped 1024 bytes\n/);
    expect(out.endsWith('dumping  4.00 KiB  2.00 KiB/s  2 s\n')).toBe(true);
    expect(out.match(/\n/g)).toHaveLength(3);
  });

  it('writes nothing where stderr is not a terminal', () => {
    const { stream, text } = tty();
    const p = new ProgressLine(stream, false);
    p.update('dumping', { bytes: 1, elapsedMs: 1 });
    p.done();
    expect(text()).toBe('');
  });
});
