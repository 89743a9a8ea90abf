import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Manifest } from '../catalog/types.js';
import type { DecryptionKeys } from '../config.js';
import { decryptToFile } from '../crypto/age.js';
import { Sha256Meter } from '../crypto/hash.js';
import { LmsError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Storage } from '../storage/types.js';

export class Phases {
  readonly ms: Record<string, number> = {};
  async time<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t = Date.now();
    try {
      return await fn();
    } finally {
      this.ms[name] = (this.ms[name] ?? 0) + Date.now() - t;
    }
  }
}

export interface Fetched {
  checksum: { expected: string; actual: string | null; ok: boolean };
  decryption: { ok: boolean; error?: string };
  /** The verified plaintext dump, when every step passed. */
  dumpFile?: string;
  /** Why it failed, for a person. */
  reasons: string[];
}

export function describe(error: unknown): string {
  if (error instanceof LmsError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Downloads a backup's stored object into `work`, checks its size and SHA-256 against the
 * manifest, and decrypts it (authenticated, to a file that appears only when the whole
 * payload authenticated). Nothing unverified is ever handed on: dumpFile is set only on success.
 */
export async function fetchVerifiedDump(
  storage: Storage,
  manifest: Manifest,
  keys: DecryptionKeys,
  work: string,
  phases: Phases,
  logger: Logger,
): Promise<Fetched> {
  const reasons: string[] = [];
  const out: Fetched = {
    checksum: { expected: manifest.object.sha256, actual: null, ok: false },
    decryption: { ok: false },
    reasons,
  };
  const stored = join(work, 'object');
  try {
    await logger.group(`download ${manifest.object.key} and verify its checksum`, () =>
      phases.time('download', async () => {
        const meter = new Sha256Meter();
        await pipeline(
          await storage.get(manifest.object.key),
          meter,
          createWriteStream(stored, { mode: 0o600 }),
        );
        out.checksum.actual = meter.digest();
        out.checksum.ok = meter.digest() === manifest.object.sha256 && meter.bytes === manifest.object.bytes;
        if (!out.checksum.ok) {
          reasons.push(
            `checksum mismatch: the stored object ${manifest.object.key} (${meter.bytes} bytes) has SHA-256 ` +
              `${meter.digest()}; the manifest says ${manifest.object.sha256} (${manifest.object.bytes} bytes)`,
          );
        }
      }),
    );
  } catch (error) {
    reasons.push(`cannot read ${manifest.object.key} from ${storage.display}: ${describe(error)}`);
  }
  if (!out.checksum.ok) {
    rmSync(stored, { force: true });
    return out;
  }

  if (manifest.encryption.scheme !== 'age') {
    out.decryption.ok = true;
    out.dumpFile = stored;
    return out;
  }
  const dumpFile = join(work, 'dump');
  await logger.group('decrypt (authenticated)', () =>
    phases.time('decrypt', async () => {
      try {
        const plain = await decryptToFile(createReadStream(stored), dumpFile, keys);
        if (plain.sha256 !== manifest.dump.sha256) {
          rmSync(dumpFile, { force: true });
          reasons.push(
            `the decrypted dump's SHA-256 ${plain.sha256} differs from the manifest's ${manifest.dump.sha256}`,
          );
          return;
        }
        out.decryption.ok = true;
        out.dumpFile = dumpFile;
      } catch (error) {
        out.decryption.error = describe(error);
        reasons.push(`decryption failed: ${describe(error)}`);
      }
    }),
  );
  rmSync(stored, { force: true });
  return out;
}
