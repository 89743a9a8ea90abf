import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/**
 * Runs `during` with a `docker` first on PATH (this process's, and the one it is given for a
 * CLI) that runs `script` (sh, with the CLI's arguments) and then the real docker CLI with the
 * arguments as the script left them: an engine that behaves otherwise, at the CLI's seam.
 */
export async function withDockerShim<T>(script: string, during: (PATH: string) => Promise<T>): Promise<T> {
  const real = execFileSync('sh', ['-c', 'command -v docker']).toString().trim();
  const dir = mkdtempSync(join(tmpdir(), 'lms-docker-shim-'));
  writeFileSync(join(dir, 'docker'), `#!/bin/sh\n${script}\nexec ${real} "$@"\n`, { mode: 0o755 });
  const path = process.env.PATH;
  process.env.PATH = `${dir}:${path}`;
  try {
    return await during(process.env.PATH);
  } finally {
    process.env.PATH = path;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The FIFO directories of container dumps (src/postgres/output-fifo.ts) in the temporary directory now. */
export function dumpFifoDirs(): string[] {
  return readdirSync(tmpdir()).filter((n) => n.startsWith('lms-dump-'));
}
