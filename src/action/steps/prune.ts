import { pruneOutcome } from '../../commands/outcomes.js';
import { type PruneResult, runPrune } from '../../commands/prune.js';
import { JobFailedError } from '../../errors.js';
import { failureMessage, recordedRun, type StepContext, writeSummary } from '../context.js';
import { parsePruneInputs } from '../inputs.js';
import { pruneSummary } from '../summary.js';

export async function pruneStep(ctx: StepContext): Promise<void> {
  const { io, logger } = ctx;
  const results: { display: string; result: PruneResult }[] = [];
  let dryRun = false;
  let error: string | undefined;
  try {
    const parsed = await parsePruneInputs(ctx);
    dryRun = parsed.dryRun;
    // Each destination on its own: one unreachable store must not stop retention elsewhere.
    const failures: string[] = [];
    for (const storage of parsed.storages) {
      try {
        const { result } = await recordedRun(
          ctx,
          { command: 'prune', storages: [storage], notifiers: [] },
          () => runPrune({ storage, policy: parsed.policy, dryRun }, { logger }),
          (r) => pruneOutcome(r, dryRun),
        );
        results.push({ display: storage.display, result });
      } catch (e) {
        const message = failureMessage(e, ctx.secrets);
        logger.error(`prune ${storage.display}: ${message}`);
        failures.push(`${storage.display}: ${message}`);
      }
    }
    io.setOutput('removed', String(results.reduce((s, r) => s + r.result.plan.remove.length, 0)));
    io.setOutput('kept', String(results.reduce((s, r) => s + r.result.plan.keep.length, 0)));
    io.setOutput('deleted-objects', String(results.reduce((s, r) => s + r.result.deleted.length, 0)));
    if (failures.length) {
      throw new JobFailedError(
        `prune failed for ${failures.length} of ${parsed.storages.length} destination(s):\n${failures.map((f) => `  - ${f}`).join('\n')}`,
      );
    }
  } catch (e) {
    error = failureMessage(e, ctx.secrets);
    throw e;
  } finally {
    await writeSummary(ctx, pruneSummary({ results, dryRun, ...(error ? { error } : {}) }));
  }
}
