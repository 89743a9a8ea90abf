import { createRequire as __lmsCreateRequire } from 'node:module';
import { fileURLToPath as __lmsFileURLToPath } from 'node:url';
import { dirname as __lmsDirname } from 'node:path';
var require = __lmsCreateRequire(import.meta.url);
var __filename = __lmsFileURLToPath(import.meta.url);
var __dirname = __lmsDirname(__filename);
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
} from "./chunk-3AQC5SSN.js";
import {
  RUN_ID_LABEL,
  THROWAWAY_LABEL,
  dockerRunId
} from "./chunk-FAY5UTZP.js";
import "./chunk-GOCCL7ZG.js";
import "./chunk-KUC23OCA.js";
import "./chunk-6OU3VEHW.js";
import "./chunk-ZTERMN2E.js";
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
