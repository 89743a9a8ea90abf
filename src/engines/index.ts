import { ConfigError } from '../errors.js';
import { startLocalPostgres } from './local.js';
import type { EngineChoice, StartOptions, ThrowawayPostgres } from './types.js';

export type { EngineChoice, ThrowawayPostgres } from './types.js';

export function parseEngine(value: string, inputName = 'engine'): EngineChoice {
  if (value === 'auto' || value === 'docker' || value === 'local') return value;
  throw new ConfigError(`${inputName} must be auto, docker or local (got "${value}")`, {
    hint: 'auto uses Docker when a Docker engine answers, else local PostgreSQL binaries',
  });
}

/** `auto` picks Docker when a Docker engine answers, else local binaries (DESIGN.md §5). */
export async function startThrowawayPostgres(
  choice: EngineChoice,
  options: StartOptions & { binDir?: string },
): Promise<ThrowawayPostgres> {
  // Testcontainers loads only when Docker is considered.
  const { DEFAULT_DOCKER_MAJOR, dockerAvailable, dockerImageExists, startDockerPostgres } =
    choice === 'local' ? ({} as typeof import('./docker.js')) : await import('./docker.js');
  // auto: Docker when it answers and has the image (no registry may be reachable), else local.
  const image = options.image ?? `postgres:${options.major ?? DEFAULT_DOCKER_MAJOR}`;
  const engine =
    choice === 'auto'
      ? (await dockerAvailable()) && (await dockerImageExists(image))
        ? 'docker'
        : 'local'
      : choice;
  if (engine === 'docker') return startDockerPostgres(options);
  return startLocalPostgres(options);
}
