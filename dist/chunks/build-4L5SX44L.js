import { createRequire as __lmsCreateRequire } from 'node:module';
import { fileURLToPath as __lmsFileURLToPath } from 'node:url';
import { dirname as __lmsDirname } from 'node:path';
var require = __lmsCreateRequire(import.meta.url);
var __filename = __lmsFileURLToPath(import.meta.url);
var __dirname = __lmsDirname(__filename);
import {
  require_build
} from "./chunk-KLP2F66T.js";
import "./chunk-W4ZYWWO7.js";
import "./chunk-TMXHC7WI.js";
import "./chunk-7OCOBXK4.js";
import "./chunk-GOCCL7ZG.js";
import "./chunk-MSJG6OIC.js";
import "./chunk-ZTERMN2E.js";
export default require_build();
