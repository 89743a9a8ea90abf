import { createRequire as __lmsCreateRequire } from 'node:module';
import { fileURLToPath as __lmsFileURLToPath } from 'node:url';
import { dirname as __lmsDirname } from 'node:path';
var require = __lmsCreateRequire(import.meta.url);
var __filename = __lmsFileURLToPath(import.meta.url);
var __dirname = __lmsDirname(__filename);

// src/errors.ts
var LmsError = class extends Error {
  hint;
  constructor(message, options = {}) {
    super(message, options.cause === void 0 ? void 0 : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
};
var ConfigError = class extends LmsError {
  exitCode = 2;
};
var ConfigErrors = class extends ConfigError {
  problems;
  constructor(problems) {
    super(
      problems.length === 1 ? problems[0].message : `${problems.length} configuration problems:
${problems.map((p) => `  - ${p.message}${p.hint ? ` (${p.hint})` : ""}`).join("\n")}`,
      problems.length === 1 && problems[0].hint ? { hint: problems[0].hint } : {}
    );
    this.problems = problems;
  }
};
var JobFailedError = class extends LmsError {
  exitCode = 1;
};
var PgVersionMismatchError = class extends ConfigError {
};
var PgConnectionConfigError = class extends ConfigError {
};
var PgUnreachableError = class extends JobFailedError {
};
var PgToolFailedError = class extends JobFailedError {
};
var ChecksumMismatchError = class extends JobFailedError {
};
function describeError(error) {
  if (error instanceof LmsError)
    return error.hint ? `${error.message}
  hint: ${error.hint}` : error.message;
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

// src/log.ts
var nullLogger = {
  debug() {
  },
  info() {
  },
  warn() {
  },
  error() {
  },
  group: (_title, fn) => fn()
};

export {
  LmsError,
  ConfigError,
  ConfigErrors,
  JobFailedError,
  PgVersionMismatchError,
  PgConnectionConfigError,
  PgUnreachableError,
  PgToolFailedError,
  ChecksumMismatchError,
  describeError,
  nullLogger
};
