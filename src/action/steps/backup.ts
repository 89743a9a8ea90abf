import { compareBackupIds, parseBackupId } from '../../catalog/names.js';
import { type BackupResult, runBackup } from '../../commands/backup.js';
import { checkSizeAnomaly, type SizeAnomaly } from '../../report/anomaly.js';
import type { Storage } from '../../storage/types.js';
import { failureMessage, type StepContext, writeSummary } from '../context.js';
import { parseBackupInputs } from '../inputs.js';
import { backupSummary } from '../summary.js';

/** How many earlier complete backups form the size baseline. */
const SIZE_HISTORY = 7;

export async function backupStep(ctx: StepContext): Promise<void> {
  const { io, logger } = ctx;
  let displays: string[] = [];
  let result: BackupResult | undefined;
  let size: SizeAnomaly | null = null;
  let error: string | undefined;
  try {
    const parsed = await parseBackupInputs(ctx);
    displays = parsed.displays;
    result = await runBackup(parsed.config, { logger, env: ctx.env });
    const m = result.manifest;
    io.setOutput('backup-id', result.id);
    io.setOutput('object-key', m.object.key);
    io.setOutput('sha256', m.object.sha256);
    io.setOutput('bytes', String(m.object.bytes));
    io.setOutput('duration-seconds', String(Math.round(result.durationMs / 100) / 10));
    logger.info(
      `backup ${result.id} complete: ${m.inventory.tableCount} tables, ${m.inventory.totalRows} rows, ` +
        `${m.object.bytes} bytes stored in ${displays.join(', ')}`,
    );

    const first = parsed.config.destinations[0];
    if (first) {
      size = await logger.group('size check against earlier backups', async () => {
        const history = await previousBackupSizes(first, result!.id).catch((e: unknown) => {
          logger.debug(`size history unavailable: ${e instanceof Error ? e.message : String(e)}`);
          return undefined;
        });
        if (!history) return null;
        const check = checkSizeAnomaly({ bytes: m.object.bytes, history, historySize: SIZE_HISTORY });
        if (check.severity === 'ok') logger.info(check.message);
        else logger.warn(check.message);
        return check;
      });
    }
  } catch (e) {
    error = failureMessage(e, ctx.secrets);
    throw e;
  } finally {
    await writeSummary(
      ctx,
      backupSummary({ ...(result ? { result } : {}), displays, size, ...(error ? { error } : {}) }),
    );
  }
}

/**
 * Stored sizes of the complete backups (same prefix) before `id`, oldest first: one listing of
 * `db/`, no manifest reads. A backup counts as complete when its manifest exists.
 */
export async function previousBackupSizes(
  storage: Storage,
  id: string,
  limit = SIZE_HISTORY,
): Promise<number[]> {
  const prefix = parseBackupId(id)?.prefix;
  const dumps = new Map<string, number>();
  const complete = new Set<string>();
  const listing = (async () => {
    for await (const obj of storage.list('db/')) {
      const m = /^db\/(.+?)\.(dump(?:\.age)?|manifest\.json)$/.exec(obj.key);
      if (!m) continue;
      const parsed = parseBackupId(m[1]!);
      if (!parsed || parsed.prefix !== prefix || m[1] === id) continue;
      if (m[2] === 'manifest.json') complete.add(m[1]!);
      else dumps.set(m[1]!, obj.size);
    }
  })();
  // A slow remote listing must not hold the step: the size check is a nicety.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    listing,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('listing took longer than 20 s')), 20_000);
    }),
  ]).finally(() => clearTimeout(timer));
  return [...dumps.keys()]
    .filter((k) => complete.has(k) && compareBackupIds(k, id) < 0)
    .sort(compareBackupIds)
    .slice(-limit)
    .map((k) => dumps.get(k)!);
}
