#!/usr/bin/env node
import { createRequire as __lmsCreateRequire } from 'node:module';
import { fileURLToPath as __lmsFileURLToPath } from 'node:url';
import { dirname as __lmsDirname } from 'node:path';
var require = __lmsCreateRequire(import.meta.url);
var __filename = __lmsFileURLToPath(import.meta.url);
var __dirname = __lmsDirname(__filename);
import {
  runCli
} from "../chunks/chunk-SRSW5J5U.js";
import "../chunks/chunk-ZTERMN2E.js";

// src/entrypoints/cli.ts
await runCli(process.argv.slice(2));
