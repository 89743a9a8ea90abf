#!/usr/bin/env node

// src/entrypoints/cli.ts
import { runCli } from "../lms-backup.js";
await runCli(process.argv.slice(2));
