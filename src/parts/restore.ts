/**
 * restore --files-to / --redis-to: the files and Redis parts of a backup, checked before
 * anything is changed (the backup holds the part; the directory is empty or confirmed; the
 * Redis holds no key or is confirmed), restored after the database (or alone).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Manifest } from '../catalog/types.js';
import { describe } from '../commands/fetch.js';
import type { RestoreResult } from '../commands/restore.js';
import type { DecryptionKeys } from '../config.js';
import { registerTeardown } from '../engines/teardown.js';
import { ConfigError } from '../errors.js';
import { isEmptyDir } from '../files/extract.js';
import type { Logger } from '../log.js';
import { RedisClient, type RedisTarget, serverFacts, totalKeys } from '../redis/client.js';
import type { Storage } from '../storage/types.js';
import { FilesTargetNotEmptyError, restoreFilesPart } from './files.js';
import { partObject } from './object.js';
import { RedisTargetNotEmptyError, restoreRedisPart } from './redis.js';

export interface PartsRestoreConfig {
  /** --files-to, and --files-path to restore only what lies under that path. */
  files?: { to: string; path?: string };
  /** --redis-to. */
  redis?: { to: RedisTarget; url: string };
  /** Restore only these parts, not the database (no target-url given). */
  partsOnly?: boolean;
}

export interface PartsRestoreResult {
  files?: { dir: string; prefix?: string; ok: boolean; detail: string; entries: number };
  redis?: { target: string; ok: boolean; detail: string; keys: number | null };
}

/** A part the backup does not hold was asked for (exit 2). */
export class PartMissingError extends ConfigError {}

/** Refuses, before anything changes, what the parts restore could not do or must not do unconfirmed. */
export async function checkPartsRestore(
  config: PartsRestoreConfig & { confirm?: string },
  manifest: Manifest,
): Promise<void> {
  if (config.files) {
    if (!partObject(manifest, 'files') || !manifest.files) {
      throw new PartMissingError(`backup ${manifest.id} holds no files (it was taken without files)`, {
        hint: 'choose a backup taken with files (lms-backup list shows the parts of each), or leave out files-to',
      });
    }
    const dir = resolve(config.files.to);
    const confirmed = config.confirm !== undefined && [config.files.to, dir].includes(config.confirm);
    if (!(await isEmptyDir(dir)) && !confirmed) {
      throw new FilesTargetNotEmptyError(
        `refusing to restore files into ${config.files.to}: it is not empty, and the restore would overwrite what is there`,
        {
          hint: `give an empty directory, or --confirm ${config.files.to} to replace the files the backup holds there`,
        },
      );
    }
  }
  if (config.redis) {
    if (!partObject(manifest, 'redis') || !manifest.redis) {
      throw new PartMissingError(
        `backup ${manifest.id} holds no Redis snapshot (it was taken without redis-url)`,
        {
          hint: 'choose a backup taken with redis-url, or leave out redis-to',
        },
      );
    }
    const c = await RedisClient.open(config.redis.to);
    try {
      const keys = totalKeys((await serverFacts(c)).keyspace);
      const confirmed =
        config.confirm !== undefined && [config.redis.url, config.redis.to.display].includes(config.confirm);
      if (keys > 0 && !confirmed) {
        throw new RedisTargetNotEmptyError(
          `refusing to restore Redis into ${config.redis.to.display}: it holds ${keys} keys, which the restore would overwrite`,
          {
            hint: `give an empty Redis, or --confirm ${config.redis.to.display} to replace the keys the backup holds (other keys stay)`,
          },
        );
      }
    } finally {
      c.close();
    }
  }
}

/** Restores the asked-for parts; their problems are returned as reasons, nothing is thrown for them. */
export async function restoreParts(
  config: PartsRestoreConfig & { confirm?: string; storage: Storage; keys: DecryptionKeys },
  manifest: Manifest,
  logger: Logger,
): Promise<{ parts: PartsRestoreResult; reasons: string[] }> {
  const parts: PartsRestoreResult = {};
  const reasons: string[] = [];
  if (!config.files && !config.redis) return { parts, reasons };
  const work = mkdtempSync(join(tmpdir(), 'lms-restore-parts-'));
  const cleanup = registerTeardown(
    `restore work dir ${work}`,
    async () => rmSync(work, { recursive: true, force: true }),
    () => rmSync(work, { recursive: true, force: true }),
  );
  try {
    if (config.files) {
      const f = config.files;
      try {
        const r = await logger.group(`restore files into ${f.to}`, () =>
          restoreFilesPart(
            config.storage,
            manifest,
            config.keys,
            work,
            {
              dir: f.to,
              resolvedDir: resolve(f.to),
              ...(f.path ? { prefix: f.path } : {}),
              ...(config.confirm !== undefined ? { confirm: config.confirm } : {}),
            },
            logger,
          ),
        );
        parts.files = {
          dir: resolve(f.to),
          ...(f.path ? { prefix: f.path } : {}),
          ok: r.ok,
          detail: r.detail,
          entries: r.entries,
        };
        if (!r.ok) reasons.push(`files: ${r.detail}`);
      } catch (error) {
        if (error instanceof ConfigError) throw error;
        parts.files = { dir: resolve(f.to), ok: false, detail: describe(error), entries: 0 };
        reasons.push(`files: ${describe(error)}`);
      }
    }
    if (config.redis) {
      const rd = config.redis;
      try {
        const r = await logger.group(`restore Redis into ${rd.to.display}`, () =>
          restoreRedisPart(
            config.storage,
            manifest,
            config.keys,
            work,
            {
              target: rd.to,
              url: rd.url,
              ...(config.confirm !== undefined ? { confirm: config.confirm } : {}),
            },
            logger,
          ),
        );
        parts.redis = { target: rd.to.display, ok: r.ok, detail: r.detail, keys: r.keys };
        if (!r.ok) reasons.push(`redis: ${r.detail}`);
      } catch (error) {
        if (error instanceof ConfigError) throw error;
        parts.redis = { target: rd.to.display, ok: false, detail: describe(error), keys: null };
        reasons.push(`redis: ${describe(error)}`);
      }
    }
  } finally {
    await cleanup.run();
  }
  return { parts, reasons };
}

/** Lines for the restore's printed result and the job summary. */
export function partsLines(parts: PartsRestoreResult | undefined): string[] {
  const out: string[] = [];
  if (parts?.files) {
    out.push(
      `files: ${parts.files.ok ? 'restored' : 'FAILED'} into ${parts.files.dir}${parts.files.prefix ? ` (only ${parts.files.prefix})` : ''}: ${parts.files.detail}`,
    );
  }
  if (parts?.redis) out.push(`redis: ${parts.redis.ok ? 'restored' : 'FAILED'}: ${parts.redis.detail}`);
  return out;
}

/** The result of a restore of files and Redis alone (no database): the plan says so. */
export async function restorePartsOnly(
  config: PartsRestoreConfig & { confirm?: string; storage: Storage; keys: DecryptionKeys; dryRun: boolean },
  manifest: Manifest,
  now: Date,
  logger: Logger,
): Promise<RestoreResult> {
  const result: RestoreResult = {
    plan: {
      backupId: manifest.id,
      backupTakenAt: manifest.createdAt,
      backupAgeSeconds: Math.round((now.getTime() - Date.parse(manifest.createdAt)) / 1000),
      checksumOk: true,
      decryptionOk: true,
      target: 'none: files and Redis only (no target-url given)',
      targetServerVersion: 'not used',
      backupServerVersion: manifest.source.serverVersion,
      versionCheck: 'not checked: the database is not restored',
      targetExists: false,
      targetUserTables: 0,
      mode: 'full',
      toc: {},
      missingRoles: [],
      owners: false,
      privileges: false,
    },
    dryRun: config.dryRun,
    restored: false,
    ok: false,
    reasons: [],
    nextSteps: ['the database was not restored: give target-url to restore it too'],
  };
  if (config.dryRun) {
    result.ok = true;
    result.nextSteps.push('dry run: nothing was changed');
    return result;
  }
  const { parts, reasons } = await restoreParts(config, manifest, logger);
  result.parts = parts;
  result.reasons.push(...reasons);
  // Checksums and decryption were proven by the parts' own downloads.
  result.plan.checksumOk = result.plan.decryptionOk = reasons.length === 0;
  result.restored = reasons.length === 0;
  result.ok = reasons.length === 0;
  return result;
}
