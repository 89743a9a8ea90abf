// src/entrypoints/verify.ts
import { runAction } from "../lms-backup.js";
await runAction("verify");
