import { dirname } from 'node:path';
import { type ReportResult, runReport } from '../../commands/report.js';
import { JobFailedError } from '../../errors.js';
import { artifactName, uploadArtifact } from '../artifact.js';
import { failureMessage, type StepContext, writeSummary } from '../context.js';
import { parseReportInputs } from '../inputs.js';
import { reportSummary } from '../summary.js';

export async function reportStep(ctx: StepContext): Promise<void> {
  const { io, logger, env } = ctx;
  let result: ReportResult | undefined;
  let artifact: string | undefined;
  let error: string | undefined;
  try {
    const p = await parseReportInputs(ctx);
    result = await runReport(
      {
        storages: p.storages,
        windowDays: p.windowDays,
        outDir: p.outDir,
        formats: p.formats,
        failOn: p.failOn,
        rpoSeconds: p.rpoSeconds,
        rtoSeconds: p.rtoSeconds,
        keepDays: p.keepDays,
        retention: p.retention,
      },
      { logger },
    );
    io.setOutput('status', result.readiness.status);
    io.setOutput('failed-conditions', result.failed.join(','));
    io.setOutput('report-dir', result.files.length ? p.outDir : '');
    io.setOutput('html-path', result.htmlPath ?? '');
    if (p.uploadReport && result.files.length) {
      artifact = await logger.group('upload the readiness report', () =>
        uploadArtifact(
          artifactName('lms-backup-readiness', env),
          result!.files,
          dirname(result!.files[0]!),
          env,
          logger,
        ),
      );
    }
    if (result.failed.length) {
      throw new JobFailedError(
        `DR readiness watchdog: ${result.failed
          .map((c) => `${c} (${result!.readiness.conditions[c].message})`)
          .join('; ')}`,
        {
          hint: 'the job summary shows the readiness report; fix the cause (a backup or drill that failed or stopped)',
        },
      );
    }
  } catch (e) {
    error = failureMessage(e, ctx.secrets);
    throw e;
  } finally {
    await writeSummary(
      ctx,
      reportSummary({
        ...(result ? { result } : {}),
        ...(artifact ? { artifact } : {}),
        ...(error && !result ? { error } : {}),
      }),
    );
  }
}
