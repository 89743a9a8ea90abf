// src/entrypoints/report.ts
import { runAction } from "../lms-backup.js";
await runAction("report");
