import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DrillResult, runDrill } from '../../commands/drill.js';
import { drillOutcome } from '../../commands/outcomes.js';
import { dockerRunId } from '../../engines/docker.js';
import { claimTempDir, sweepDrillDebris } from '../../engines/local.js';
import { runAllTeardowns } from '../../engines/teardown.js';
import { JobFailedError } from '../../errors.js';
import { artifactName, uploadArtifact } from '../artifact.js';
import { failureMessage, recordedRun, type StepContext, writeSummary } from '../context.js';
import { defaultDrillReportDir, parseDrillInputs } from '../inputs.js';
import { drillSummary } from '../summary.js';

/** State the post step reads to clean up after a cancelled drill. */
export const DRILL_STATE = { workRoot: 'work-root', runId: 'run-id', engine: 'engine' } as const;

export async function drillStep(ctx: StepContext): Promise<void> {
  const { io, logger, env } = ctx;
  const defaultReportDir = defaultDrillReportDir(env);

  // Everything the drill puts on disk (the decrypted dump, a local server's data directory) lives
  // under one directory the post step knows, and every container it starts carries the run id.
  // What killed drills on this runner left behind (self-hosted runners are reused).
  await sweepDrillDebris(tmpdir(), logger).catch(() => []);
  const workRoot = mkdtempSync(join(tmpdir(), 'lms-backup-drill-'));
  chmodSync(workRoot, 0o755); // a local server runs as the unprivileged postgres user when we are root
  claimTempDir(workRoot);
  io.saveState(DRILL_STATE.workRoot, workRoot);
  env.LMS_BACKUP_RUN_ID ||= dockerRunId(env);
  io.saveState(DRILL_STATE.runId, env.LMS_BACKUP_RUN_ID);
  // Only a known engine name goes into saved state, never a raw input value.
  const engine = io.getInput('engine');
  io.saveState(DRILL_STATE.engine, engine === 'local' || engine === 'docker' ? engine : 'auto');
  const previousTmp = env.TMPDIR;

  let from: string | undefined;
  let result: DrillResult | undefined;
  let artifact: string | undefined;
  let error: string | undefined;
  try {
    const { config, uploadReport, notifiers } = await parseDrillInputs(ctx, { defaultReportDir });
    from = config.storage.display;
    env.TMPDIR = workRoot;
    ({ result } = await recordedRun(
      ctx,
      { command: 'drill', storages: [config.storage], notifiers },
      () => runDrill(config, { logger }),
      drillOutcome,
    ));
    const { report } = result;
    const reportPath = join(config.localReportDir!, `${report.id}.json`);
    io.setOutput('passed', String(report.verdict === 'pass'));
    io.setOutput('verdict', report.verdict);
    io.setOutput('tables', String(report.tableCount.found ?? 0));
    io.setOutput('rows', String(report.tables.reduce((sum, t) => sum + (t.found ?? 0), 0)));
    io.setOutput('recovery-seconds', String(report.rto.measuredSeconds));
    io.setOutput('report-path', existsSync(reportPath) ? reportPath : '');
    for (const w of result.written) logger.info(`report: ${w}`);

    if (uploadReport) {
      const files = [reportPath, join(config.localReportDir!, `${report.id}.md`)].filter((f) =>
        existsSync(f),
      );
      artifact = await logger.group('upload the drill report', () =>
        uploadArtifact(
          artifactName(`lms-backup-${report.id}`, env),
          files,
          config.localReportDir!,
          env,
          logger,
        ),
      );
    }
    if (report.verdict !== 'pass') {
      throw new JobFailedError(
        `restore drill of ${report.backupId} ${report.verdict === 'could-not-run' ? 'could not run' : 'failed'}:\n${report.reasons.map((r) => `  - ${r}`).join('\n')}`,
        {
          hint: 'the job summary and the drill report show every check; fix the cause and run the drill again',
        },
      );
    }
    logger.info(`restore drill of ${report.backupId} passed in ${report.rto.measuredSeconds} s`);
  } catch (e) {
    error = failureMessage(e, ctx.secrets);
    throw e;
  } finally {
    if (previousTmp === undefined) delete env.TMPDIR;
    else env.TMPDIR = previousTmp;
    await runAllTeardowns();
    rmSync(workRoot, { recursive: true, force: true });
    await writeSummary(
      ctx,
      drillSummary({
        ...(result ? { report: result.report, markdown: result.markdown } : {}),
        ...(from ? { from } : {}),
        ...(artifact ? { artifact } : {}),
        ...(error && !result ? { error } : {}),
      }),
    );
  }
}
