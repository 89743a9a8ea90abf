import { verifyOutcome } from '../../commands/outcomes.js';
import { runVerify, type VerifyResult } from '../../commands/verify.js';
import { JobFailedError } from '../../errors.js';
import { failureMessage, recordedRun, type StepContext, writeSummary } from '../context.js';
import { parseVerifyInputs } from '../inputs.js';
import { verifySummary } from '../summary.js';

export async function verifyStep(ctx: StepContext): Promise<void> {
  const { io, logger } = ctx;
  let result: VerifyResult | undefined;
  let from: string | undefined;
  let error: string | undefined;
  try {
    const config = await parseVerifyInputs(ctx);
    from = config.storage.display;
    ({ result } = await recordedRun(
      ctx,
      { command: 'verify', storages: [config.storage], notifiers: [] },
      () => runVerify(config, { logger }),
      verifyOutcome,
    ));
    io.setOutput('ok', String(result.ok));
    io.setOutput('backup-id', result.backupId);
    if (!result.ok) {
      throw new JobFailedError(
        `verify of ${result.backupId} failed:\n${result.checks
          .filter((c) => !c.ok)
          .map((c) => `  - ${c.name}: ${c.detail}`)
          .join('\n')}`,
        {
          hint: 'the stored backup cannot be trusted: drill or restore an older one, and find out what changed it',
        },
      );
    }
  } catch (e) {
    error = failureMessage(e, ctx.secrets);
    throw e;
  } finally {
    await writeSummary(
      ctx,
      verifySummary({
        ...(result ? { result } : {}),
        ...(from ? { from } : {}),
        ...(error ? { error } : {}),
      }),
    );
  }
}
