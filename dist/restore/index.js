// src/entrypoints/restore.ts
import { runAction } from "../lms-backup.js";
await runAction("restore");
