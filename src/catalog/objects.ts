/**
 * The objects a manifest lists, and the checks that bind a manifest to its name and to them
 * (docs/storage-layout.md: "a manifest is believed only when it agrees with its own name and its objects
 * exist as it says"). Every decision on a backup (list, selection, prune) goes through
 * `manifestProblems`; every object of a backup is named by `manifestObjects`, the one place a
 * new kind of object is added.
 */

import { backupKeyPrefix } from './layout.js';
import type { Manifest } from './types.js';

export interface ManifestObject {
  /** What the object is, for messages: "dump", … */
  role: string;
  key: string;
  bytes: number;
  sha256: string;
  /** Its `sha256sum` sidecar, when it has one. */
  sidecarKey?: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Every stored object the manifest lists, in the order they were written. */
export function manifestObjects(manifest: Manifest): ManifestObject[] {
  // manifest@2 lists every object (dump, globals); manifest@1 has the dump alone.
  const listed = Array.isArray(manifest.objects) ? manifest.objects : [manifest.object];
  const out: ManifestObject[] = [];
  for (const raw of listed) {
    const o = raw as Partial<Manifest['object']> & { role?: string };
    if (!o || typeof o !== 'object') continue;
    out.push({
      role: typeof o.role === 'string' ? o.role : 'dump',
      key: o.key as string,
      bytes: o.bytes as number,
      sha256: o.sha256 as string,
      ...(o.sidecarKey !== undefined ? { sidecarKey: o.sidecarKey } : {}),
    });
  }
  return out;
}

/** The sidecar's exact text length: `<64 hex>  <file name>\n`. */
export function sidecarLength(objectKey: string): number {
  const name = objectKey.split('/').pop() ?? objectKey;
  return 64 + 2 + Buffer.byteLength(name) + 1;
}

/**
 * Why a manifest stored as `db/<id>.manifest.json` must not be believed, judged from the
 * destination's listing alone (`sizes`: key → bytes), so no extra request is made; an empty
 * list when it is consistent. The sidecar's content is checked where it is read (verify, drill).
 */
export function manifestProblems(
  id: string,
  manifest: Manifest,
  sizes: ReadonlyMap<string, number>,
): string[] {
  const problems: string[] = [];
  if (manifest.id !== id) {
    problems.push(
      `the manifest db/${id}.manifest.json describes backup "${manifest.id}", not ${id} (swapped or copied manifest)`,
    );
  }
  const objects = manifestObjects(manifest);
  if (objects.length === 0) problems.push('the manifest lists no stored object');
  for (const o of objects) {
    if (typeof o.key !== 'string' || typeof o.bytes !== 'number' || typeof o.sha256 !== 'string') {
      problems.push(`the manifest's ${o.role} entry has no key, size or SHA-256`);
      continue;
    }
    if (!o.key.startsWith(backupKeyPrefix(id))) {
      problems.push(`the manifest's ${o.role} object ${o.key} belongs to another backup`);
      continue;
    }
    if (!HEX64.test(o.sha256))
      problems.push(`the manifest's ${o.role} SHA-256 "${o.sha256}" is not a digest`);
    const size = sizes.get(o.key);
    if (size === undefined) problems.push(`its ${o.role} object ${o.key} is missing`);
    else if (size !== o.bytes)
      problems.push(`its ${o.role} object ${o.key} holds ${size} bytes; the manifest says ${o.bytes}`);
    if (o.sidecarKey !== undefined) {
      const sidecar = sizes.get(o.sidecarKey);
      if (sidecar === undefined) problems.push(`its checksum sidecar ${o.sidecarKey} is missing`);
      else if (sidecar !== sidecarLength(o.key))
        problems.push(
          `its checksum sidecar ${o.sidecarKey} holds ${sidecar} bytes, not one sha256sum line for ${o.key}`,
        );
    }
  }
  return problems;
}
