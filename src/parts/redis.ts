/**
 * The Redis part of a backup, end to end: the RDB snapshot (backup), redis-check-rdb and its key
 * count (verify), loaded into a throwaway redis-server and counted (drill), copied into a target
 * server (restore).
 */
import { createReadStream, createWriteStream, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Manifest, RedisManifest } from '../catalog/types.js';
import type { EncryptionConfig } from '../commands/backup.js';
import { describe } from '../commands/fetch.js';
import type { DecryptionKeys } from '../config.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { RedisClient, type RedisTarget } from '../redis/client.js';
import { checkRdb, copyKeys, countKeys, startThrowawayRedis, takeSnapshot } from '../redis/rdb.js';
import type { StagingDir } from '../storage/staging.js';
import type { Storage } from '../storage/types.js';
import { downloadPart, openPlain, partObject, plainMismatch, type StagedPart, stagePart } from './object.js';

export async function stageRedis(
  target: RedisTarget,
  encryption: EncryptionConfig,
  stagingDir: StagingDir,
  work: string,
  logger: Logger,
  now: () => Date,
): Promise<{ staged: StagedPart; manifest: RedisManifest }> {
  const takenAt = now().toISOString();
  const file = join(work, 'snapshot.rdb');
  const snap = await logger.group(`Redis snapshot of ${target.display} (redis-cli --rdb)`, () =>
    takeSnapshot(target, file),
  );
  try {
    const staged = await stagePart('redis', createReadStream(file), [], encryption, stagingDir);
    logger.info(`redis: ${snap.keys} keys, Redis ${snap.serverVersion}, stored ${staged.source.size} bytes`);
    return {
      staged,
      manifest: {
        takenAt,
        source: target.display,
        serverVersion: snap.serverVersion,
        keys: snap.keys,
        keyspace: snap.keyspace,
      },
    };
  } finally {
    rmSync(file, { force: true });
  }
}

export interface RedisProof {
  ok: boolean;
  detail: string;
  problems: string[];
  /** Keys the check or the throwaway server found. */
  keys: number | null;
}

/** Downloads, checks and decrypts the snapshot into `work/snapshot.rdb`. */
async function fetchRdb(
  storage: Storage,
  manifest: Manifest,
  keys: DecryptionKeys,
  work: string,
  logger: Logger,
): Promise<{ file?: string; problems: string[] }> {
  const obj = partObject(manifest, 'redis');
  if (!obj || !manifest.redis) return { problems: ['the backup has no Redis part'] };
  const dl = await downloadPart(storage, obj, work, logger);
  if (!dl.file) return { problems: dl.reasons };
  const file = join(work, 'snapshot.rdb');
  const { stages, plain } = openPlain(dl.file, manifest, keys);
  try {
    await pipeline([
      ...stages,
      createWriteStream(file, { mode: 0o600 }),
    ] as unknown as NodeJS.ReadWriteStream[]);
  } catch (error) {
    rmSync(file, { force: true });
    return { problems: [`the Redis snapshot cannot be decrypted: ${describe(error)}`] };
  } finally {
    rmSync(dl.file, { force: true });
  }
  const mismatch = plainMismatch(obj, plain);
  if (mismatch) {
    rmSync(file, { force: true });
    return { problems: [mismatch] };
  }
  return { file, problems: [] };
}

/** verify: the stored checksums, decryption, and redis-check-rdb with the manifest's key count. */
export async function verifyRedisPart(
  storage: Storage,
  manifest: Manifest,
  keys: DecryptionKeys,
  work: string,
  logger: Logger,
): Promise<RedisProof> {
  const f = await fetchRdb(storage, manifest, keys, work, logger);
  if (!f.file) return proof(f.problems, null);
  const check = await checkRdb(f.file);
  rmSync(f.file, { force: true });
  const problems: string[] = [];
  if (!check.ok) problems.push(check.detail);
  else if (check.keys !== manifest.redis!.keys)
    problems.push(`redis-check-rdb counts ${check.keys} keys; the manifest says ${manifest.redis!.keys}`);
  return proof(problems, check.keys, check.detail);
}

/** drill: load the snapshot into a throwaway redis-server and compare its key count. */
export async function drillRedisPart(
  storage: Storage,
  manifest: Manifest,
  keys: DecryptionKeys,
  work: string,
  logger: Logger,
): Promise<RedisProof> {
  const f = await fetchRdb(storage, manifest, keys, work, logger);
  if (!f.file) return proof(f.problems, null);
  const check = await checkRdb(f.file);
  if (!check.ok) return proof([check.detail], null);
  let server: Awaited<ReturnType<typeof startThrowawayRedis>> | undefined;
  try {
    server = await logger.group('load the snapshot into a throwaway redis-server', () =>
      startThrowawayRedis(f.file!, join(work, 'redis')),
    );
    const loaded = await countKeys(server.client);
    const problems =
      loaded.keys === manifest.redis!.keys
        ? []
        : [`the throwaway redis-server holds ${loaded.keys} keys; the manifest says ${manifest.redis!.keys}`];
    return proof(
      problems,
      loaded.keys,
      `loaded into redis-server: ${loaded.keys} keys, as the manifest says`,
    );
  } catch (error) {
    return proof([`the snapshot could not be loaded: ${describe(error)}`], null);
  } finally {
    await server?.stop();
    rmSync(f.file, { force: true });
  }
}

/** The restore would write into a Redis that holds keys (exit 2, nothing written). */
export class RedisTargetNotEmptyError extends ConfigError {}

/**
 * restore --redis-to: loads the snapshot into a throwaway server and copies every key into the
 * target with DUMP/RESTORE. A target holding keys is refused unless `confirm` equals the URL.
 */
export async function restoreRedisPart(
  storage: Storage,
  manifest: Manifest,
  keys: DecryptionKeys,
  work: string,
  options: { target: RedisTarget; url: string; confirm?: string },
  logger: Logger,
): Promise<RedisProof> {
  const target = await RedisClient.open(options.target);
  try {
    const before = await countKeys(target);
    const confirmed =
      options.confirm !== undefined && [options.url, options.target.display].includes(options.confirm);
    if (before.keys > 0 && !confirmed) {
      throw new RedisTargetNotEmptyError(
        `redis-to ${options.target.display} holds ${before.keys} keys: restoring would overwrite them`,
        {
          hint: `give an empty Redis, or --confirm ${options.target.display} to replace the keys the backup holds (others stay)`,
        },
      );
    }
    const f = await fetchRdb(storage, manifest, keys, work, logger);
    if (!f.file) return proof(f.problems, null);
    const server = await startThrowawayRedis(f.file, join(work, 'redis'));
    try {
      const source = await countKeys(server.client);
      const copied = await logger.group(`copy ${source.keys} keys into ${options.target.display}`, () =>
        copyKeys(server.client, target, source.keyspace, { replace: confirmed }),
      );
      const after = await countKeys(target);
      const problems =
        copied === manifest.redis!.keys
          ? []
          : [`${copied} keys copied; the manifest says ${manifest.redis!.keys}`];
      return proof(
        problems,
        copied,
        `${copied} keys restored into ${options.target.display} (it now holds ${after.keys})`,
      );
    } finally {
      await server.stop();
      rmSync(f.file, { force: true });
    }
  } finally {
    target.close();
  }
}

function proof(problems: string[], keys: number | null, okDetail?: string): RedisProof {
  const ok = problems.length === 0;
  return { ok, problems, keys, detail: ok ? (okDetail ?? `${keys} keys`) : problems.join('; ') };
}
