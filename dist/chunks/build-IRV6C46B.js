import { createRequire as __lmsCreateRequire } from 'node:module';
import { fileURLToPath as __lmsFileURLToPath } from 'node:url';
import { dirname as __lmsDirname } from 'node:path';
const require = __lmsCreateRequire(import.meta.url);
const __filename = __lmsFileURLToPath(import.meta.url);
const __dirname = __lmsDirname(__filename);
import {
  require_build
} from "./chunk-7GEHPBBI.js";
import "./chunk-UWI7NFNJ.js";
import "./chunk-TRQJDKSE.js";
import "./chunk-X7METVHQ.js";
import "./chunk-O74KMIMM.js";
import "./chunk-RBCDPGPX.js";
import "./chunk-QDARLWRL.js";
export default require_build();
