/** The one bounded worker pool the storage readers share. */
import { describe, expect, it } from 'vitest';
import { forEachLimited } from '../../src/pool.js';

const tick = () => new Promise((r) => setTimeout(r, 2));

describe('forEachLimited', () => {
  it('runs every item, never more than the limit at a time', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    await forEachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running++;
      peak = Math.max(peak, running);
      await tick();
      done.push(n);
      running--;
    });
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(peak).toBe(3);
  });

  it('rejects with the first error that escapes, starting nothing after it', async () => {
    const started: number[] = [];
    const run = forEachLimited([1, 2, 3, 4, 5], 1, async (n) => {
      started.push(n);
      if (n === 2) throw new Error('boom at 2');
    });
    await expect(run).rejects.toThrow('boom at 2');
    expect(started).toEqual([1, 2]);
    await expect(forEachLimited([], 4, async () => {})).resolves.toBeUndefined();
  });
});
