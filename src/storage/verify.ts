import { StorageIntegrityError, StorageNotFoundError } from './errors.js';
import { hashStream } from './source.js';
import type { Storage, StoredObject } from './types.js';

/**
 * Reads a stored object back and checks its size and SHA-256 against what was recorded.
 * Throws StorageNotFoundError when it is gone and StorageIntegrityError (a
 * ChecksumMismatchError) when its bytes differ. The size is checked first, without a download.
 */
export async function verifyStoredObject(
  storage: Storage,
  key: string,
  expectedSha256: string,
  expectedSize: number,
): Promise<StoredObject & { sha256: string }> {
  const head = await storage.head(key);
  if (!head) {
    throw new StorageNotFoundError(`${storage.display}: ${key} is missing`, {
      location: storage.display,
      key,
      operation: 'head',
      hint: 'the object was deleted or never completed; run a new backup',
    });
  }
  if (head.size !== expectedSize) {
    throw integrityError(
      storage.display,
      key,
      { size: expectedSize, sha256: expectedSha256 },
      { size: head.size },
    );
  }
  const actual = await hashStream(await storage.get(key));
  if (actual.size !== expectedSize || actual.sha256 !== expectedSha256.toLowerCase()) {
    throw integrityError(storage.display, key, { size: expectedSize, sha256: expectedSha256 }, actual);
  }
  return { ...head, sha256: actual.sha256 };
}

export function integrityError(
  display: string,
  key: string,
  expected: { size: number; sha256?: string },
  actual: { size: number; sha256?: string },
  what = 'stored object',
): StorageIntegrityError {
  const detail =
    expected.size !== actual.size
      ? `${actual.size} bytes, expected ${expected.size}`
      : `SHA-256 ${actual.sha256 ?? '?'}, expected ${expected.sha256 ?? '?'}`;
  return new StorageIntegrityError(`${display}: ${what} ${key} does not match: ${detail}`, {
    location: display,
    key,
    expected,
    actual,
    hint: 'the bytes changed after they were written (corruption or tampering); do not trust this copy: use another destination or backup',
  });
}
