// src/entrypoints/forget.ts
import { runAction } from "../lms-backup.js";
await runAction("forget");
