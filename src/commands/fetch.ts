import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BackupObject, Manifest } from '../catalog/types.js';
import type { DecryptionKeys } from '../config.js';
import { createAgeDecryptStream, decryptToFile } from '../crypto/age.js';
import { Sha256Meter } from '../crypto/hash.js';
import { ChecksumMismatchError, JobFailedError, LmsError } from '../errors.js';
import type { Logger } from '../log.js';
import { type Globals, parseGlobalsSql } from '../postgres/globals.js';
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

/** The manifest's entry for the globals object (manifest@2), if the backup has one. */
export function globalsObject(manifest: Manifest): BackupObject | undefined {
  return manifest.objects?.find((o) => o.role === 'globals');
}

/**
 * Downloads, checks (stored size and SHA-256, then the plaintext's) and decrypts a backup's
 * globals object. Throws with the reason when any check fails; undefined when the backup has
 * no globals (manifest@1).
 */
export async function fetchVerifiedGlobals(
  storage: Storage,
  manifest: Manifest,
  keys: DecryptionKeys,
): Promise<{ text: string; globals: Globals } | undefined> {
  const obj = globalsObject(manifest);
  if (!obj) return undefined;
  const stored = await readObjectBuffer(storage, obj.key, 64 * 1024 * 1024);
  const sha = createHash('sha256').update(stored).digest('hex');
  if (sha !== obj.sha256 || stored.length !== obj.bytes) {
    throw new ChecksumMismatchError(
      `checksum mismatch: the stored globals ${obj.key} (${stored.length} bytes) has SHA-256 ${sha}; the manifest says ${obj.sha256} (${obj.bytes} bytes)`,
    );
  }
  let plain = stored;
  if (manifest.encryption.scheme === 'age') {
    const chunks: Buffer[] = [];
    const dec = createAgeDecryptStream(keys);
    dec.on('data', (c: Buffer) => chunks.push(c));
    await pipeline(Readable.from([stored]), dec);
    plain = Buffer.concat(chunks);
  }
  const plainSha = createHash('sha256').update(plain).digest('hex');
  if (plainSha !== obj.plainSha256) {
    throw new ChecksumMismatchError(
      `the decrypted globals' SHA-256 ${plainSha} differs from the manifest's ${obj.plainSha256}`,
    );
  }
  const text = plain.toString('utf8');
  return { text, globals: parseGlobalsSql(text) };
}

async function readObjectBuffer(storage: Storage, key: string, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of await storage.get(key)) {
    n += (c as Buffer).length;
    if (n > limit) throw new JobFailedError(`${key} is larger than ${limit} bytes: not a globals object`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
