import { StorageKeyError } from './errors.js';

/** Files the local backend is still writing; never a valid key segment, never listed. */
export const TEMP_PREFIX = '.tmp-';

// Characters that are unsafe in a key on some store or filesystem (Windows included).
const UNSAFE = /[\\:*?"<>|\u0000-\u001f\u007f]/;

/**
 * A key is a relative, '/'-separated object name: "db/lms_20240115_020000.dump.age".
 * Rejects anything that could escape the destination root or mean different things on
 * different stores: absolute paths, `.`/`..` segments, empty segments, backslashes, control
 * characters, and our own temp-file prefix.
 */
export function validateKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0) throw new StorageKeyError('storage key is empty');
  if (Buffer.byteLength(key) > 1024) {
    throw new StorageKeyError(`storage key is longer than 1024 bytes: ${key.slice(0, 80)}…`);
  }
  if (key.startsWith('/') || /^[A-Za-z]:/.test(key)) {
    throw new StorageKeyError(`storage key "${key}" is absolute`, {
      hint: 'keys are relative to the destination root, e.g. "db/lms_20240115_020000.dump.age"',
    });
  }
  if (UNSAFE.test(key)) {
    throw new StorageKeyError(`storage key "${printable(key)}" contains a character that is not portable`, {
      hint: 'use letters, digits, "/", ".", "_" and "-"',
    });
  }
  for (const segment of key.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') {
      throw new StorageKeyError(`storage key "${key}" has an empty, "." or ".." segment`, {
        hint: 'keys are plain relative names without "..", "./" or "//"',
      });
    }
    if (segment.startsWith(TEMP_PREFIX)) {
      throw new StorageKeyError(`storage key "${key}" uses the reserved temp prefix "${TEMP_PREFIX}"`);
    }
  }
  return key;
}

/** A list prefix: "" (everything), "db/", "db/lms_2024". The same rules as a key, but it may end in "/". */
export function validatePrefix(prefix: string): string {
  if (prefix === '') return prefix;
  const body = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (body === '') throw new StorageKeyError('storage list prefix "/" is absolute');
  validateKey(body);
  return prefix;
}

/** Joins the destination's root prefix and a key: ("lms", "db/x") → "lms/db/x". */
export function joinRoot(root: string, key: string): string {
  return root ? `${root}/${key}` : key;
}

/** Normalises a root prefix from a URL path: trims slashes, rejects `..`. */
export function normaliseRoot(path: string): string {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '';
  validateKey(trimmed);
  return trimmed;
}

function printable(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
