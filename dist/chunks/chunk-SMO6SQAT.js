import { createRequire as __lmsCreateRequire } from 'node:module';
import { fileURLToPath as __lmsFileURLToPath } from 'node:url';
import { dirname as __lmsDirname } from 'node:path';
const require = __lmsCreateRequire(import.meta.url);
const __filename = __lmsFileURLToPath(import.meta.url);
const __dirname = __lmsDirname(__filename);

// src/index.ts
async function runCli(argv) {
  const { runCli: run } = await import("./main-XIIPF2PM.js");
  return run(argv);
}
async function runAction(step) {
  const { runAction: run } = await import("./main-37JP3PGB.js");
  return run(step);
}

export {
  runCli,
  runAction
};
