import { type BackupResult, runBackup } from '../../commands/backup.js';
import { backupOutcome } from '../../commands/outcomes.js';
import { failureMessage, recordedRun, type StepContext, writeSummary } from '../context.js';
import { parseBackupInputs } from '../inputs.js';
import { backupSummary } from '../summary.js';

export async function backupStep(ctx: StepContext): Promise<void> {
  const { io, logger } = ctx;
  let displays: string[] = [];
  let result: BackupResult | undefined;
  let error: string | undefined;
  try {
    const parsed = await parseBackupInputs(ctx);
    displays = parsed.displays;
    ({ result } = await recordedRun(
      ctx,
      { command: 'backup', storages: parsed.config.destinations, notifiers: parsed.notifiers },
      () => runBackup(parsed.config, { logger, env: ctx.env }),
      backupOutcome,
    ));
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
  } catch (e) {
    error = failureMessage(e, ctx.secrets);
    throw e;
  } finally {
    await writeSummary(
      ctx,
      backupSummary({ ...(result ? { result } : {}), displays, ...(error ? { error } : {}) }),
    );
  }
}
