import { createRequire as __lmsCreateRequire } from 'node:module';
import { fileURLToPath as __lmsFileURLToPath } from 'node:url';
import { dirname as __lmsDirname } from 'node:path';
const require = __lmsCreateRequire(import.meta.url);
const __filename = __lmsFileURLToPath(import.meta.url);
const __dirname = __lmsDirname(__filename);

// src/errors.ts
var LmsError = class extends Error {
  hint;
  constructor(message, options = {}) {
    super(message, options.cause === void 0 ? void 0 : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
};
function exitCodeOf(error) {
  return error instanceof LmsError ? error.exitCode : 1;
}
function describeError(error) {
  if (error instanceof LmsError) return error.hint ? `${error.message}
  hint: ${error.hint}` : error.message;
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

// src/cli/main.ts
async function runCli(argv) {
  try {
    throw new Error(`not implemented yet: ${argv.join(" ")}`);
  } catch (error) {
    process.stderr.write(`lms-backup: ${describeError(error)}
`);
    process.exit(exitCodeOf(error));
  }
}

// src/action/main.ts
async function runAction(step) {
  throw new Error(`not implemented yet: ${step}`);
}
export {
  runAction,
  runCli
};
