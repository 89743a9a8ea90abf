/**
 * What a backup adds beside the dump and the globals: the files archive and the Redis snapshot.
 * Checked before the dump (a missing path or an unreachable Redis fails before anything is
 * written), staged after it, stored under the backup's id in every destination before the manifest.
 */
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackupObject, FilesManifest, RedisManifest } from '../catalog/types.js';
import type { EncryptionConfig } from '../commands/backup.js';
import { registerTeardown } from '../engines/teardown.js';
import type { Logger } from '../log.js';
import { RedisClient, type RedisTarget } from '../redis/client.js';
import type { StagingDir } from '../storage/staging.js';
import type { Storage } from '../storage/types.js';
import { type FilesConfig, stageFiles } from './files.js';
import { type StagedPart, storeParts } from './object.js';
import { stageRedis } from './redis.js';

export interface PartsConfig {
  files?: FilesConfig;
  redis?: RedisTarget;
  encryption: EncryptionConfig;
}

export interface StagedParts {
  staged: StagedPart[];
  files?: FilesManifest;
  redis?: RedisManifest;
  warnings: string[];
  cleanup(): Promise<void>;
}

/** Before the dump: Redis answers (and the password works). The files' paths were checked with the settings. */
export async function checkParts(config: PartsConfig): Promise<void> {
  if (config.redis) {
    const c = await RedisClient.open(config.redis);
    try {
      await c.call('PING');
    } finally {
      c.close();
    }
  }
}

export async function stageParts(
  config: PartsConfig,
  stagingDir: StagingDir,
  logger: Logger,
  now: () => Date,
): Promise<StagedParts> {
  const out: StagedParts = {
    staged: [],
    warnings: [],
    cleanup: async () => {
      for (const s of out.staged) await s.teardown.run();
    },
  };
  try {
    if (config.files) {
      const f = await logger.group('files: archive, checksum and encrypt', () =>
        stageFiles(config.files!, config.encryption, stagingDir, logger, now),
      );
      out.staged.push(f.staged);
      out.files = f.manifest;
      out.warnings.push(...f.warnings);
    }
    if (config.redis) {
      // The plaintext snapshot waits in a private directory, never beside the stored objects.
      const work = await mkdtemp(join(tmpdir(), 'lms-redis-'));
      const cleanup = registerTeardown(
        `redis snapshot dir ${work}`,
        async () => rmSync(work, { recursive: true, force: true }),
        () => rmSync(work, { recursive: true, force: true }),
      );
      try {
        const r = await stageRedis(config.redis, config.encryption, stagingDir, work, logger, now);
        out.staged.push(r.staged);
        out.redis = r.manifest;
      } finally {
        await cleanup.run();
      }
    }
  } catch (error) {
    await out.cleanup();
    throw error;
  }
  return out;
}

/** Stores the staged parts under `id` in every destination; their manifest entries. */
export function storeStagedParts(
  destinations: readonly Storage[],
  id: string,
  encrypted: boolean,
  parts: StagedParts,
  logger: Logger,
): Promise<BackupObject[]> {
  return storeParts(destinations, id, encrypted, parts.staged, logger);
}

/** The manifest's files and redis sections, when the backup took them. */
export function partSections(parts: StagedParts): { files?: FilesManifest; redis?: RedisManifest } {
  return { ...(parts.files ? { files: parts.files } : {}), ...(parts.redis ? { redis: parts.redis } : {}) };
}
