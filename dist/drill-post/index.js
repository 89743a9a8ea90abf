// src/entrypoints/drill-post.ts
import { runAction } from "../lms-backup.js";
await runAction("drill-post");
