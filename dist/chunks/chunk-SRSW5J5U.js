import { createRequire as __lmsCreateRequire } from 'node:module';
import { fileURLToPath as __lmsFileURLToPath } from 'node:url';
import { dirname as __lmsDirname } from 'node:path';
var require = __lmsCreateRequire(import.meta.url);
var __filename = __lmsFileURLToPath(import.meta.url);
var __dirname = __lmsDirname(__filename);

// src/index.ts
async function runCli(argv) {
  const { runCli: run } = await import("./main-DLH2N52V.js");
  return run(argv);
}
async function runAction(step) {
  const { runAction: run } = await import("./main-3YY64GBP.js");
  return run(step);
}

export {
  runCli,
  runAction
};
