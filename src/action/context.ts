import { recorded } from '../commands/recorded.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { redactUrl } from '../redact.js';
import type { ActionIO } from './io.js';
import type { Secrets } from './secrets.js';

/** What every step gets: the runner, the mask registry, a logger on the runner's log, the env. */
export interface StepContext {
  io: ActionIO;
  secrets: Secrets;
  logger: Logger;
  env: NodeJS.ProcessEnv;
}

/** One message for any thrown value (even a non-Error), with its hint, never with a secret. */
export function failureMessage(error: unknown, secrets: Secrets): string {
  return secrets.scrub(redactUrl(describeError(error)));
}

/** Writes the step's summary; its own failure is only a warning. */
export async function writeSummary(ctx: StepContext, markdown: string): Promise<void> {
  try {
    await ctx.io.appendSummary(ctx.secrets.scrub(markdown));
  } catch (error) {
    ctx.io.warning(
      `could not write the job summary: ${ctx.secrets.scrub(error instanceof Error ? error.message : String(error))}`,
    );
  }
}

/** The run on GitHub, for notifications ("more" links). */
export function runLink(env: NodeJS.ProcessEnv): string | undefined {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = env;
  return server && repo && run ? `${server}/${repo}/actions/runs/${run}` : undefined;
}

/** recorded() (a run record in every destination, then notifications) with the run's link. */
export function recordedRun<T>(
  ctx: StepContext,
  options: Omit<Parameters<typeof recorded<T>>[0], 'logger' | 'link'>,
  run: () => Promise<T>,
  outcome: Parameters<typeof recorded<T>>[2],
) {
  const link = runLink(ctx.env);
  return recorded<T>({ ...options, logger: ctx.logger, ...(link ? { link } : {}) }, run, outcome);
}
