import { randomBytes } from 'node:crypto';

/** Every container lms-backup starts (throwaway servers, pg tool containers) carries this label (value "true"). */
export const THROWAWAY_LABEL = 'lms-backup.throwaway';
/** …and this one, naming the run (see {@link dockerRunId}), so a post step can sweep leftovers. */
export const RUN_ID_LABEL = 'lms-backup.run-id';

let generatedRunId: string | undefined;

/**
 * The id that labels this run's containers. A GitHub job's main and post steps share it
 * (GITHUB_RUN_ID + attempt + job), so the post step finds what the main step left behind.
 * LMS_BACKUP_RUN_ID overrides; elsewhere it is random per process.
 */
export function dockerRunId(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LMS_BACKUP_RUN_ID) return env.LMS_BACKUP_RUN_ID;
  if (env.GITHUB_RUN_ID) {
    return `gh-${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT ?? '1'}-${env.GITHUB_JOB ?? 'job'}`;
  }
  generatedRunId ??= `local-${process.pid}-${randomBytes(4).toString('hex')}`;
  return generatedRunId;
}
