// src/entrypoints/prune.ts
import { runAction } from "../lms-backup.js";
await runAction("prune");
