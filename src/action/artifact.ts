/**
 * Uploads report files as a workflow artifact. Only a runner can: @actions/artifact needs
 * ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL, so anywhere else the upload is skipped with a
 * debug line. An upload failure is a warning: the report is also in storage and the summary.
 */
import type { Logger } from '../log.js';

export function canUploadArtifacts(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.ACTIONS_RUNTIME_TOKEN && env.ACTIONS_RESULTS_URL);
}

/** A name unique within a workflow run: re-run attempts get their own. */
export function artifactName(base: string, env: NodeJS.ProcessEnv): string {
  const attempt = Number(env.GITHUB_RUN_ATTEMPT ?? '1');
  const job = (env.GITHUB_JOB ?? '').replace(/[^A-Za-z0-9_.-]/g, '-');
  return [base, job, attempt > 1 ? `attempt-${attempt}` : ''].filter(Boolean).join('-');
}

export async function uploadArtifact(
  name: string,
  files: string[],
  rootDirectory: string,
  env: NodeJS.ProcessEnv,
  logger: Logger,
): Promise<string | undefined> {
  if (files.length === 0) return undefined;
  if (!canUploadArtifacts(env)) {
    logger.debug(
      'not running on a GitHub Actions runner (no ACTIONS_RUNTIME_TOKEN / ACTIONS_RESULTS_URL): artifact upload skipped',
    );
    return undefined;
  }
  try {
    const { DefaultArtifactClient } = await import('@actions/artifact');
    const response = await new DefaultArtifactClient().uploadArtifact(name, files, rootDirectory, {});
    logger.info(`uploaded artifact ${name} (${response.size ?? '?'} bytes, id ${response.id ?? '?'})`);
    return name;
  } catch (error) {
    logger.warn(
      `could not upload the artifact ${name}: ${error instanceof Error ? error.message : String(error)}`,
    );
    return undefined;
  }
}
