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

/**
 * How every `docker run` of a tool or sidecar of ours begins (a pg tool, a compose sidecar): the
 * container is removed when it ends, carries our labels (a killed run's leftovers are swept by
 * them) and has no log driver. With the engine's default (json-file) the daemon copies all the
 * container writes, a whole dump unencrypted, into a JSON log file on its disk until `--rm`
 * removes it; on the bench database that copy made a container's pg_dump 4x slower than the same
 * pg_dump on the host (16.5 s against 3.9 s for a 334 MB archive). `docker run` attached still
 * streams stdout and stderr without one.
 */
export function toolRunArgs(name: string): string[] {
  return [
    'run',
    '--rm',
    '--name',
    name,
    '--label',
    `${THROWAWAY_LABEL}=true`,
    '--label',
    `${RUN_ID_LABEL}=${dockerRunId()}`,
    '--log-driver',
    'none',
  ];
}
