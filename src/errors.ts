/**
 * Typed errors. Every error the user can meet says what was wrong and what to do (`hint`),
 * and carries the CLI exit code: 1 = the job ran and failed, 2 = bad usage or configuration.
 */
export type ExitCode = 0 | 1 | 2;

export interface LmsErrorOptions {
  hint?: string;
  cause?: unknown;
}

export abstract class LmsError extends Error {
  abstract readonly exitCode: 1 | 2;
  readonly hint: string | undefined;

  constructor(message: string, options: LmsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** Bad usage or configuration: nothing was attempted (exit 2). */
export class ConfigError extends LmsError {
  readonly exitCode = 2 as const;
}

/** Several configuration problems, reported together, once. */
export class ConfigErrors extends ConfigError {
  readonly problems: ConfigError[];
  constructor(problems: ConfigError[]) {
    super(
      problems.length === 1
        ? problems[0]!.message
        : `${problems.length} configuration problems:\n${problems
            .map((p) => `  - ${p.message}${p.hint ? ` (${p.hint})` : ''}`)
            .join('\n')}`,
      problems.length === 1 && problems[0]!.hint ? { hint: problems[0]!.hint } : {},
    );
    this.problems = problems;
  }
}

/** The job ran and failed (exit 1). */
export class JobFailedError extends LmsError {
  readonly exitCode = 1 as const;
}

/** The installed pg_dump/pg_restore cannot serve this server's major version. */
export class PgVersionMismatchError extends ConfigError {}

/** Authentication failed, or the database does not exist: fix the connection settings. */
export class PgConnectionConfigError extends ConfigError {}

/** The server could not be reached (down, wrong host or port, network). */
export class PgUnreachableError extends JobFailedError {}

/** pg_dump or pg_restore failed or was killed. */
export class PgToolFailedError extends JobFailedError {}

/** A stored object's checksum does not match what the manifest or sidecar recorded. */
export class ChecksumMismatchError extends JobFailedError {}

export function exitCodeOf(error: unknown): 1 | 2 {
  return error instanceof LmsError ? error.exitCode : 1;
}

/** One human line (plus a hint line) for any thrown value, even a non-Error. */
export function describeError(error: unknown): string {
  if (error instanceof LmsError)
    return error.hint ? `${error.message}\n  hint: ${error.hint}` : error.message;
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
