import { DEFAULT_DOCKER_MAJOR, dockerAvailable, dockerImageExists } from '../../src/engines/docker.js';

// The reaper image cannot be pulled where there is no registry; the engine removes its own
// containers anyway.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

/** The image the docker tests start (the engine's default for its default major). */
export const TEST_POSTGRES_IMAGE = `postgres:${DEFAULT_DOCKER_MAJOR}`;

/**
 * 'run' when a Docker engine answers and the test image is present; otherwise 'skip' with a
 * one-line reason on stderr, or, when LMS_REQUIRE_DOCKER=1 (CI), an error: a skip there is a
 * failure.
 */
export async function dockerTestMode(image = TEST_POSTGRES_IMAGE): Promise<'run' | 'skip'> {
  let reason: string | undefined;
  if (!(await dockerAvailable())) {
    reason = 'no Docker engine answers (run "bash scripts/start-docker.sh" as root)';
  } else if (!(await dockerImageExists(image))) {
    reason = `docker image ${image} is missing (run "bash scripts/build-postgres-image.sh")`;
  }
  if (reason === undefined) return 'run';
  if (process.env.LMS_REQUIRE_DOCKER === '1') {
    throw new Error(`LMS_REQUIRE_DOCKER=1 but ${reason}`);
  }
  process.stderr.write(`skipping Docker tests: ${reason}\n`);
  return 'skip';
}
