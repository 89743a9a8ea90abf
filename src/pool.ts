/**
 * Runs `fn` over `items` with at most `limit` at a time (remote storage pays a round trip per
 * object: a few in flight hide it, too many get throttled). Each item's own errors are `fn`'s to
 * handle; the first one it lets escape rejects the whole run once the running ones settle.
 */
export async function forEachLimited<T>(
  items: Iterable<T>,
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const queue = [...items];
  let failed: { error: unknown } | undefined;
  const worker = async () => {
    while (!failed && queue.length) {
      const item = queue.shift() as T;
      try {
        await fn(item);
      } catch (error) {
        failed ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, queue.length)) }, worker));
  if (failed) throw failed.error;
}

/** Objects read from storage at a time by listings and reports. */
export const STORAGE_READ_CONCURRENCY = 8;
