// src/entrypoints/check.ts
import { runAction } from "../lms-backup.js";
await runAction("check");
