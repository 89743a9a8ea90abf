import { type CheckReport, runCheck } from '../../commands/check.js';
import { JobFailedError } from '../../errors.js';
import { failureMessage, type StepContext, writeSummary } from '../context.js';
import { parseCheckInputs } from '../inputs.js';
import { checkSummary } from '../summary.js';

export async function checkStep(ctx: StepContext): Promise<void> {
  const { io, logger } = ctx;
  let report: CheckReport | undefined;
  let error: string | undefined;
  try {
    const { config } = await parseCheckInputs(ctx);
    report = await logger.group('check the setup', () => runCheck(config, { logger, env: ctx.env }));
    for (const c of report.checks) {
      const line = `${c.skipped ? '–' : c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}`;
      if (c.ok) logger.info(line);
      else logger.error(`${line}${c.fix ? `\n    fix: ${c.fix}` : ''}`);
    }
    const failed = report.checks.filter((c) => !c.ok);
    io.setOutput('ok', String(report.ok));
    io.setOutput('failed-checks', failed.map((c) => c.name).join('\n'));
    if (failed.length) {
      throw new JobFailedError(
        `${failed.length} check(s) failed:\n${failed.map((c) => `  - ${c.name}: ${c.detail}${c.fix ? ` (fix: ${c.fix})` : ''}`).join('\n')}`,
      );
    }
  } catch (e) {
    error = failureMessage(e, ctx.secrets);
    throw e;
  } finally {
    await writeSummary(ctx, checkSummary({ ...(report ? { report } : {}), ...(error ? { error } : {}) }));
  }
}
