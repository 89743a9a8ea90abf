// src/entrypoints/drill.ts
import { runAction } from "../lms-backup.js";
await runAction("drill");
