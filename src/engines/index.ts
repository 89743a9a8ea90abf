import { ConfigError, describeError, JobFailedError } from '../errors.js';
import { nullLogger } from '../log.js';
import { startLocalPostgres } from './local.js';
import type { EngineChoice, StartOptions, ThrowawayPostgres } from './types.js';

export type { EngineChoice, ThrowawayPostgres } from './types.js';

export function parseEngine(value: string, inputName = 'engine'): EngineChoice {
  if (value === 'auto' || value === 'docker' || value === 'local') return value;
  throw new ConfigError(`${inputName} must be auto, docker or local (got "${value}")`, {
    hint: 'auto uses Docker when a Docker engine answers, else local PostgreSQL binaries',
  });
}

/** No engine could start a throwaway server; `attempts` says what each one said. */
export class EngineStartError extends JobFailedError {
  readonly attempts: string[];
  constructor(message: string, attempts: string[], options: { hint?: string; cause?: unknown } = {}) {
    super(message, options);
    this.attempts = attempts;
  }
}

/**
 * Starts a throwaway PostgreSQL. `auto`: Docker when a Docker engine answers
 * (pulling the image when it is absent), else, or when the container does not start, local
 * binaries. Each fallback's reason is logged and kept in `fallbacks` of the result; when no
 * engine starts, an EngineStartError lists every attempt.
 */
export async function startThrowawayPostgres(
  choice: EngineChoice,
  options: StartOptions & { binDir?: string },
): Promise<ThrowawayPostgres> {
  if (choice === 'local') return startLocalPostgres(options);
  // Testcontainers loads only when Docker is considered.
  const docker = await import('./docker.js');
  if (choice === 'docker') return docker.startDockerPostgres(options);

  const logger = options.logger ?? nullLogger;
  const fallbacks: string[] = [];
  const problem = await docker.dockerProblem();
  if (problem) {
    fallbacks.push(`Docker: ${problem}`);
  } else {
    try {
      return await docker.startDockerPostgres(options);
    } catch (error) {
      fallbacks.push(`Docker: ${describeError(error)}`);
    }
  }
  logger.warn(`engine auto: ${fallbacks[fallbacks.length - 1]}; falling back to local PostgreSQL binaries`);
  try {
    const server = await startLocalPostgres(options);
    return Object.assign(server, { fallbacks });
  } catch (error) {
    const attempts = [...fallbacks, `local: ${describeError(error)}`];
    throw new EngineStartError(
      `no throwaway PostgreSQL${options.major === undefined ? '' : ` ${options.major}`} could start:\n${attempts.map((a) => `  - ${a}`).join('\n')}`,
      attempts,
      {
        hint:
          `start Docker with access to ${options.image ?? `postgres:${options.major ?? 'MAJOR'}`} (pulled from a registry, or built ` +
          'with "bash scripts/build-postgres-image.sh"), or install the PostgreSQL server of that major ' +
          '(e.g. "apt-get install postgresql-MAJOR") for the local engine',
        cause: error,
      },
    );
  }
}
