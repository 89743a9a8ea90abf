/**
 * The further objects of a backup beside the dump and the globals (the files archive, the Redis
 * snapshot): each streamed through SHA-256 (plaintext), age encryption (unless opted out) and
 * SHA-256 (stored bytes) into a staged file; stored with its `sha256sum` sidecar in every
 * destination, each put confirmed, before the manifest is written; downloaded and checked
 * (size, SHA-256, sidecar) before anything reads it, and decrypted as a stream (age
 * authenticates every 64 KiB chunk and the end).
 */
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { backupObjectKey, nameInDb } from '../catalog/layout.js';
import type { BackupObject, Manifest } from '../catalog/types.js';
import type { EncryptionConfig } from '../commands/backup.js';
import { checkSidecar, describe } from '../commands/fetch.js';
import { registerStagedFile, stageObject } from '../commands/stage-object.js';
import type { DecryptionKeys } from '../config.js';
import { createAgeDecryptStream } from '../crypto/age.js';
import { Sha256Meter, sha256Sidecar } from '../crypto/hash.js';
import type { TeardownHandle } from '../engines/teardown.js';
import type { Logger } from '../log.js';
import { bufferSource } from '../storage/index.js';
import { resumingGet } from '../storage/resume.js';
import { type StagingDir, temporaryName } from '../storage/staging.js';
import type { PutSource, Storage } from '../storage/types.js';

export type PartRole = 'files' | 'redis';

/** Stored names: `db/<id>.files.tar.gz[.age]` and `db/<id>.redis.rdb[.age]` (docs/storage-layout.md). */
export const PART_SUFFIX: Record<PartRole, string> = { files: 'files.tar.gz', redis: 'redis.rdb' };

export function partKey(id: string, role: PartRole, encrypted: boolean): string {
  return backupObjectKey(id, `${PART_SUFFIX[role]}${encrypted ? '.age' : ''}`);
}

export interface StagedPart {
  role: PartRole;
  source: PutSource;
  plainBytes: number;
  plainSha256: string;
  teardown: TeardownHandle;
}

/**
 * Streams `input` (plaintext) through `before`, the meters and encryption into a staged file
 * (stageObject, every call bounded by the staging directory's watch).
 */
export async function stagePart(
  role: PartRole,
  input: Readable,
  before: Transform[],
  encryption: EncryptionConfig,
  stagingDir: StagingDir,
): Promise<StagedPart> {
  const path = join(stagingDir.path, temporaryName('stage', `.${role}.partial`));
  const { watch } = stagingDir;
  const io = watch.calls('put');
  const teardown = registerStagedFile(`staged ${role} ${path}`, path, stagingDir);
  try {
    const staged = await stageObject({ payload: { stdout: input }, before, encryption, path, io }).done;
    return {
      role,
      source: {
        open: () => watch.guardRead(createReadStream(path), path),
        size: staged.bytes,
        sha256: staged.sha256,
        path,
        witness: staged.witness,
      },
      plainBytes: staged.plainBytes,
      plainSha256: staged.plainSha256,
      teardown,
    };
  } catch (error) {
    await teardown.run().catch(() => {});
    throw error;
  }
}

/**
 * Stores each staged part and its sidecar in every destination (each put confirmed) under the
 * backup's id; returns the manifest's entries. Called after the dump claimed the id and before
 * the manifest is written.
 */
export async function storeParts(
  destinations: readonly Storage[],
  id: string,
  encrypted: boolean,
  parts: readonly StagedPart[],
  logger: Logger,
): Promise<BackupObject[]> {
  const objects: BackupObject[] = [];
  for (const p of parts) {
    const key = partKey(id, p.role, encrypted);
    const sidecarKey = `${key}.sha256`;
    const sidecar = bufferSource(sha256Sidecar(p.source.sha256, nameInDb(key)));
    for (const dest of destinations) {
      await dest.put(key, p.source);
      await dest.put(sidecarKey, sidecar);
      logger.info(`stored ${key} in ${dest.display}`);
    }
    objects.push({
      role: p.role,
      key,
      bytes: p.source.size,
      sha256: p.source.sha256,
      sidecarKey,
      plainBytes: p.plainBytes,
      plainSha256: p.plainSha256,
    });
  }
  return objects;
}

export function partObject(manifest: Manifest, role: PartRole): BackupObject | undefined {
  return manifest.objects?.find((o) => (o.role as string) === role);
}

/**
 * Downloads a part into `work` and checks its size and SHA-256 against the manifest and its
 * sidecar. Returns the local file, or the reasons it cannot be used (the file then removed).
 */
export async function downloadPart(
  storage: Storage,
  obj: BackupObject,
  work: string,
  logger: Logger,
): Promise<{ file?: string; reasons: string[] }> {
  const reasons: string[] = [];
  const sidecar = await checkSidecar(storage, obj);
  if (!sidecar.ok) reasons.push(sidecar.detail);
  const file = join(work, `${obj.role}.stored`);
  try {
    await logger.group(`download ${obj.key} and verify its checksum`, async () => {
      const meter = new Sha256Meter();
      await pipeline(
        await resumingGet(storage, obj.key, { logger, size: obj.bytes }),
        meter,
        createWriteStream(file, { mode: 0o600 }),
      );
      if (meter.digest() !== obj.sha256 || meter.bytes !== obj.bytes) {
        reasons.push(
          `checksum mismatch: the stored ${obj.role} object ${obj.key} (${meter.bytes} bytes) has SHA-256 ` +
            `${meter.digest()}; the manifest says ${obj.sha256} (${obj.bytes} bytes)`,
        );
      }
    });
  } catch (error) {
    reasons.push(`cannot read ${obj.key} from ${storage.display}: ${describe(error)}`);
  }
  if (reasons.length) {
    rmSync(file, { force: true });
    return { reasons };
  }
  return { file, reasons };
}

/**
 * The plaintext of a downloaded part as a stream: decrypted (authenticated) and metered. The
 * meter's digest is compared with the manifest's plainSha256 once the stream has ended.
 */
export function openPlain(
  file: string,
  manifest: Manifest,
  keys: DecryptionKeys,
): { stages: (Readable | Transform)[]; plain: Sha256Meter } {
  const plain = new Sha256Meter();
  const stages: (Readable | Transform)[] = [createReadStream(file)];
  if (manifest.encryption.scheme === 'age') stages.push(createAgeDecryptStream(keys));
  stages.push(plain);
  return { stages, plain };
}

export function plainMismatch(obj: BackupObject, plain: Sha256Meter): string | undefined {
  const got = plain.digest();
  if (got === obj.plainSha256 && plain.bytes === obj.plainBytes) return undefined;
  return `the decrypted ${obj.role} object's SHA-256 ${got} (${plain.bytes} bytes) differs from the manifest's ${obj.plainSha256} (${obj.plainBytes} bytes)`;
}
