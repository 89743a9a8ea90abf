import { createRequire as __lmsCreateRequire } from 'node:module';
import { fileURLToPath as __lmsFileURLToPath } from 'node:url';
import { dirname as __lmsDirname } from 'node:path';
const require = __lmsCreateRequire(import.meta.url);
const __filename = __lmsFileURLToPath(import.meta.url);
const __dirname = __lmsDirname(__filename);
import {
  DEFAULT_DOCKER_MAJOR,
  DockerImageUnavailableError,
  DockerReaperError,
  DockerUnavailableError,
  dockerAvailable,
  dockerImageExists,
  dockerProblem,
  removeLeftoverContainers,
  startDockerPostgres
} from "./chunk-MNNTR5AW.js";
import {
  RUN_ID_LABEL,
  THROWAWAY_LABEL,
  dockerRunId
} from "./chunk-WP3ZJFDM.js";
import "./chunk-TRQJDKSE.js";
import "./chunk-DSDXBEAW.js";
import "./chunk-QDARLWRL.js";
export {
  DEFAULT_DOCKER_MAJOR,
  DockerImageUnavailableError,
  DockerReaperError,
  DockerUnavailableError,
  RUN_ID_LABEL,
  THROWAWAY_LABEL,
  dockerAvailable,
  dockerImageExists,
  dockerProblem,
  dockerRunId,
  removeLeftoverContainers,
  startDockerPostgres
};
