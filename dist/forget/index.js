import { createRequire as __lmsCreateRequire } from 'node:module';
import { fileURLToPath as __lmsFileURLToPath } from 'node:url';
import { dirname as __lmsDirname } from 'node:path';
const require = __lmsCreateRequire(import.meta.url);
const __filename = __lmsFileURLToPath(import.meta.url);
const __dirname = __lmsDirname(__filename);
import {
  runAction
} from "../chunks/chunk-SMO6SQAT.js";
import "../chunks/chunk-QDARLWRL.js";

// src/entrypoints/forget.ts
await runAction("forget");
