// src/entrypoints/backup.ts
import { runAction } from "../lms-backup.js";
await runAction("backup");
