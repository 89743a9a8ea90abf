/** The CLI's restore flags for the files and Redis parts (--files-to, --files-path, --redis-to). */
import type { Problems } from '../config.js';
import type { PartsRestoreConfig } from '../parts/restore.js';
import { parseRedisUrl } from '../redis/client.js';

export function cliRestoreParts(
  opts: { filesTo?: string; filesPath?: string; redisTo?: string; targetUrl?: string },
  problems: Problems,
  env: NodeJS.ProcessEnv = process.env,
): PartsRestoreConfig {
  if (opts.filesPath && !opts.filesTo)
    problems.add('--files-path is given without --files-to', 'give --files-to <dir> too');
  const redis = opts.redisTo
    ? problems.try(() => parseRedisUrl(opts.redisTo!, '--redis-to', env))
    : undefined;
  const any = Boolean(opts.filesTo || opts.redisTo);
  return {
    ...(opts.filesTo
      ? { files: { to: opts.filesTo, ...(opts.filesPath ? { path: opts.filesPath } : {}) } }
      : {}),
    ...(redis && opts.redisTo ? { redis: { to: redis, url: opts.redisTo } } : {}),
    // Only the files and Redis when no database is named.
    ...(any && !opts.targetUrl && !env.LMS_BACKUP_TARGET_URL ? { partsOnly: true } : {}),
  };
}
