import { restoreOutcome } from '../../commands/outcomes.js';
import { assertRestoreOk, type RestoreResult, runRestore } from '../../commands/restore.js';
import { failureMessage, recordedRun, type StepContext, writeSummary } from '../context.js';
import { parseRestoreInputs } from '../inputs.js';
import { restoreSummary } from '../summary.js';

export async function restoreStep(ctx: StepContext): Promise<void> {
  const { io, logger } = ctx;
  let result: RestoreResult | undefined;
  let error: string | undefined;
  try {
    const config = await parseRestoreInputs(ctx);
    ({ result } = await recordedRun(
      ctx,
      { command: 'restore', storages: [config.storage], notifiers: [] },
      () => runRestore(config, { logger }),
      restoreOutcome,
    ));
    io.setOutput('ok', String(result.ok));
    io.setOutput('backup-id', result.plan.backupId);
    io.setOutput('restored', String(result.restored));
    io.setOutput('mode', result.plan.mode);
    io.setOutput('side-database', result.plan.sideDatabase ?? '');
    io.setOutput('safety-backup-id', result.safetyBackup?.id ?? '');
    for (const step of result.nextSteps) logger.info(`next: ${step}`);
    assertRestoreOk(result);
  } catch (e) {
    error = failureMessage(e, ctx.secrets);
    throw e;
  } finally {
    await writeSummary(ctx, restoreSummary({ ...(result ? { result } : {}), ...(error ? { error } : {}) }));
  }
}
