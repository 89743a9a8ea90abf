import type { ForgetResult } from '../../erasure/forget.js';
import { runForget } from '../../erasure/forget.js';
import { forgetOutcome, renderForget } from '../../erasure/outcome.js';
import { JobFailedError } from '../../errors.js';
import { failureMessage, recordedRun, type StepContext, writeSummary } from '../context.js';
import { parseForgetInputs } from '../inputs.js';

/** The forget step: one erasure request into the ledger of every destination (and, with apply, the live database). */
export async function forgetStep(ctx: StepContext): Promise<void> {
  const { io, logger } = ctx;
  let result: ForgetResult | undefined;
  let error: string | undefined;
  try {
    const config = await parseForgetInputs(ctx);
    ({ result } = await recordedRun(
      ctx,
      { command: 'forget', storages: config.destinations, notifiers: [] },
      () => runForget(config, { logger }),
      forgetOutcome,
    ));
    io.setOutput('erasure-id', result.id);
    io.setOutput('keys', String(result.keys));
    io.setOutput(
      'rows-removed',
      result.applied ? String(result.applied.replay.rowsRemoved + result.applied.replay.cascadedRows) : '',
    );
    logger.info(renderForget(result).trimEnd());
    if (result.stored.length === 0) throw new JobFailedError('the erasure was stored in no destination');
  } catch (e) {
    error = failureMessage(e, ctx.secrets);
    throw e;
  } finally {
    const lines = result
      ? [
          `## ✅ Erasure \`${result.id}\` recorded`,
          '',
          `${result.keys} key(s) of \`${result.table}\`, reference ${result.reference}, in ${result.stored.length} destination(s). Every restore and drill replays it.`,
          result.applied
            ? `Applied in the live database: ${result.applied.replay.rowsRemoved} row(s) removed, ${result.applied.replay.cascadedRows} more by cascade.`
            : 'The live database was not touched (apply: false).',
        ]
      : ['## ❌ Forget failed', '', error ?? ''];
    await writeSummary(ctx, `${lines.join('\n')}\n`);
  }
}
