import { createRequire as __lmsCreateRequire } from 'node:module';
import { fileURLToPath as __lmsFileURLToPath } from 'node:url';
import { dirname as __lmsDirname } from 'node:path';
var require = __lmsCreateRequire(import.meta.url);
var __filename = __lmsFileURLToPath(import.meta.url);
var __dirname = __lmsDirname(__filename);
import {
  RUN_ID_LABEL,
  THROWAWAY_LABEL,
  connect,
  dockerCliProblem,
  dockerRunId,
  redactValue,
  registerTeardown,
  restoreTuningArgs,
  serverInfo
} from "./chunk-FAY5UTZP.js";
import {
  ConfigError,
  JobFailedError,
  PgConnectionConfigError,
  PgUnreachableError,
  nullLogger
} from "./chunk-KUC23OCA.js";

// src/engines/docker.ts
import { spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, isIP } from "node:net";
var DEFAULT_DOCKER_MAJOR = 15;
var POSTGRES_PORT = 5432;
var BUILD_HINT = 'build it locally with "bash scripts/build-postgres-image.sh" (no registry needed), pull it where a registry is reachable, or configure another image';
var DockerUnavailableError = class extends ConfigError {
};
var DockerImageUnavailableError = class extends ConfigError {
  image;
  constructor(image, options = {}) {
    super(`docker image "${image}" is not available locally and could not be pulled`, {
      ...options,
      hint: BUILD_HINT
    });
    this.image = image;
  }
};
async function withTimeout(promise, ms, what) {
  let timer;
  try {
    return await Promise.race([
      promise,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1e3} s`)), ms);
      })
    ]);
  } finally {
    clearTimeout(timer);
  }
}
function commonJs(loaded) {
  return loaded.default ?? loaded;
}
async function testcontainers() {
  return commonJs(await import("./build-4L5SX44L.js"));
}
async function runtimeClient(timeoutMs = 1e4) {
  try {
    const { getContainerRuntimeClient } = await testcontainers();
    return await withTimeout(getContainerRuntimeClient(), timeoutMs, "the Docker engine");
  } catch (error) {
    throw new DockerUnavailableError("no Docker engine answers", {
      hint: 'start Docker (on a Debian machine as root: "bash scripts/start-docker.sh"), set DOCKER_HOST, or use the local engine',
      cause: error
    });
  }
}
async function dockerAvailable(timeoutMs = 5e3) {
  return await dockerProblem(timeoutMs) === void 0;
}
async function dockerProblem(timeoutMs = 5e3) {
  const cli = await dockerCliProblem();
  if (cli) return cli;
  try {
    await runtimeClient(timeoutMs);
    return void 0;
  } catch (error) {
    const cause = error.cause;
    const detail = cause instanceof Error ? cause.message : "";
    return `no Docker engine answers${detail ? ` (${detail.split("\n")[0]})` : ""}`;
  }
}
var DockerReaperError = class extends DockerUnavailableError {
};
async function ensureReaper(client) {
  if (process.env.TESTCONTAINERS_RYUK_DISABLED === "true") return;
  const { getReaper } = await testcontainers();
  try {
    await getReaper(client);
  } catch (error) {
    const image = process.env.RYUK_CONTAINER_IMAGE || "testcontainers/ryuk";
    throw new DockerReaperError(
      `Testcontainers' reaper (Ryuk, image ${image}) could not start: ${error instanceof Error ? error.message : String(error)}`,
      {
        hint: "set TESTCONTAINERS_RYUK_DISABLED=true where the reaper image cannot be pulled or run: lms-backup removes its own containers (labelled lms-backup.throwaway) on exit, and the action's post step sweeps leftovers",
        cause: error
      }
    );
  }
}
async function dockerImageExists(image) {
  return await imageEnvironment(image) !== void 0;
}
async function imageEnvironment(image) {
  try {
    const client = await runtimeClient();
    const { ImageName } = await testcontainers();
    const dockerode = client.container.dockerode;
    return (await dockerode.getImage(ImageName.fromString(image).string).inspect()).Config?.Env ?? [];
  } catch {
    return void 0;
  }
}
function initdbEnvironment(imageEnv, durable) {
  if (durable || imageEnv === void 0) return {};
  const own = imageEnv.find((e) => e.startsWith("POSTGRES_INITDB_ARGS="))?.slice("POSTGRES_INITDB_ARGS=".length);
  return { POSTGRES_INITDB_ARGS: own?.trim() ? `${own} --no-sync` : "--no-sync" };
}
async function removeContainer(client, idOrName) {
  try {
    await client.container.dockerode.getContainer(idOrName).remove({ force: true, v: true });
  } catch (error) {
    const status = error?.statusCode;
    if (status !== 404 && status !== 409) throw error;
  }
}
var DEFAULT_PGDATA = "/var/lib/postgresql/data";
var DELETE_FILES_MS = 6e4;
async function deleteServerFiles(client, name) {
  const container = client.container.dockerode.getContainer(name);
  const env = (await container.inspect()).Config?.Env ?? [];
  const pgdata = env.find((e) => e.startsWith("PGDATA="))?.slice("PGDATA=".length) || DEFAULT_PGDATA;
  const exec = await container.exec({
    Cmd: ["rm", "-rf", "--", pgdata],
    AttachStdout: true,
    AttachStderr: true
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  let timer;
  await Promise.race([
    new Promise((resolve) => {
      stream.once("end", resolve);
      stream.once("close", resolve);
      stream.once("error", () => resolve());
      stream.resume();
    }),
    new Promise((resolve) => {
      timer = setTimeout(resolve, DELETE_FILES_MS);
    })
  ]);
  clearTimeout(timer);
  stream.destroy();
}
async function removeLeftoverContainers(runId) {
  const client = await runtimeClient();
  const labels = [`${THROWAWAY_LABEL}=true`];
  if (runId !== void 0) labels.push(`${RUN_ID_LABEL}=${runId}`);
  const containers = await client.container.dockerode.listContainers({
    all: true,
    filters: { label: labels }
  });
  let removed = 0;
  for (const c of containers) {
    await removeContainer(client, c.Id);
    removed++;
  }
  return removed;
}
async function logTail(container, lines = 20) {
  try {
    const raw = await container.logs({ stdout: true, stderr: true, tail: lines });
    const out = [];
    for (let at = 0; at + 8 <= raw.length; ) {
      const size = raw.readUInt32BE(at + 4);
      out.push(raw.subarray(at + 8, at + 8 + size));
      at += 8 + size;
    }
    return Buffer.concat(out).toString("utf8").trimEnd();
  } catch {
    return "(no logs)";
  }
}
function exitedState(name) {
  const state = spawnSync("docker", ["inspect", "-f", "{{.State.Running}} {{.State.ExitCode}}", name], {
    encoding: "utf8",
    timeout: 1e4
  });
  const [running, code] = (state.stdout ?? "").trim().split(" ");
  if (state.status !== 0 || running !== "false") return void 0;
  const logs = spawnSync("docker", ["logs", "--tail", "20", name], { encoding: "utf8", timeout: 1e4 });
  return { code: code ?? "?", logs: `${logs.stdout ?? ""}${logs.stderr ?? ""}`.trim() };
}
var ReadyOrExitedWait = class {
  /** `target`: the connection to try, given the port the container's 5432 is published on. */
  constructor(target) {
    this.target = target;
  }
  target;
  timeoutMs = 12e4;
  timeoutSet = false;
  withStartupTimeout(ms) {
    this.timeoutMs = ms;
    this.timeoutSet = true;
    return this;
  }
  isStartupTimeoutSet() {
    return this.timeoutSet;
  }
  getStartupTimeout() {
    return this.timeoutMs;
  }
  async waitUntilReady(container, boundPorts) {
    const deadline = Date.now() + this.timeoutMs;
    const conn = this.target(boundPorts.getBinding(POSTGRES_PORT));
    let inspectedAt = 0;
    for (; ; ) {
      if (Date.now() - inspectedAt >= 250) {
        const state = (await container.inspect()).State;
        inspectedAt = Date.now();
        if (!state.Running) {
          throw new Error(
            `the container exited (code ${state.ExitCode}) before PostgreSQL was ready; its last log lines:
` + await logTail(container)
          );
        }
      }
      try {
        const client = await connect(conn, { timeoutMs: 2e3 });
        await client.end().catch(() => {
        });
        return;
      } catch (error) {
        if (error instanceof PgConnectionConfigError) return;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `PostgreSQL did not take a connection within ${Math.round(this.timeoutMs / 1e3)} s; the container's last log lines:
${await logTail(container)}`
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
};
async function connectWithRetry(connection, attempts = 5) {
  for (let i = 1; ; i++) {
    try {
      return await connect(connection, { timeoutMs: 1e4 });
    } catch (error) {
      if (i >= attempts || !(error instanceof PgUnreachableError)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 300 * i));
    }
  }
}
function durabilityArgs(durable) {
  if (durable) return [];
  return ["-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off"];
}
async function publishesHere(host) {
  if (host === "localhost" || host === "::1" || /^127\./.test(host)) return true;
  if (!isIP(host)) return false;
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(0, host, () => server.close(() => resolve(true)));
  });
}
async function startDockerPostgres(opts = {}) {
  const logger = opts.logger ?? nullLogger;
  const image = opts.image ?? `postgres:${opts.major ?? DEFAULT_DOCKER_MAJOR}`;
  const client = await runtimeClient();
  const imageEnv = await imageEnvironment(image);
  const hadImage = imageEnv !== void 0;
  if (!hadImage) logger.info(`docker image ${image} is not present locally: pulling it`);
  const { PostgreSqlContainer } = commonJs(await import("./build-2NNFDA5O.js"));
  const password = randomBytes(24).toString("base64url");
  const name = `lms-backup-pg-${randomUUID().replace(/-/g, "").slice(0, 16)}`;
  const runId = dockerRunId();
  const bindLoopback = await publishesHere(client.info.containerRuntime.host);
  const reachAt = bindLoopback ? "127.0.0.1" : client.info.containerRuntime.host;
  const teardown = registerTeardown(
    `docker container ${name}`,
    () => removeContainer(client, name),
    () => {
      spawnSync("docker", ["rm", "-f", "-v", name], { stdio: "ignore", timeout: 15e3 });
    }
  );
  const container = new class extends PostgreSqlContainer {
    async start() {
      if (bindLoopback) {
        this.hostConfig.PortBindings = {
          ...this.hostConfig.PortBindings,
          [`${POSTGRES_PORT}/tcp`]: [{ HostIp: "127.0.0.1", HostPort: "0" }]
        };
      }
      return super.start();
    }
  }(image);
  container.withName(name).withLabels({ [THROWAWAY_LABEL]: "true", [RUN_ID_LABEL]: runId }).withUsername("postgres").withPassword(password).withDatabase(opts.database ?? "postgres").withEnvironment(initdbEnvironment(imageEnv, opts.durable)).withCommand(["postgres", ...durabilityArgs(opts.durable), ...opts.restore ? restoreTuningArgs() : []]).withHealthCheck({ test: ["NONE"] }).withWaitStrategy(
    new ReadyOrExitedWait((port) => ({
      host: reachAt,
      port,
      user: "postgres",
      database: "postgres",
      password
    }))
  ).withStartupTimeout(12e4);
  try {
    await ensureReaper(client);
  } catch (error) {
    teardown.release();
    throw error;
  }
  let started;
  try {
    logger.info(`starting a PostgreSQL container from ${image}`);
    started = await container.start();
  } catch (error) {
    const exited = exitedState(name);
    await teardown.run().catch(() => {
    });
    if (exited && !/exited/.test(String(error?.message))) {
      error.message = `the container exited (code ${exited.code}) before PostgreSQL was ready; its last log lines:
${exited.logs}`;
    }
    if (!hadImage && !await dockerImageExists(image)) {
      throw new DockerImageUnavailableError(image, { cause: error });
    }
    const message = redactValue(error instanceof Error ? error.message : String(error), password);
    if (/ryuk/i.test(message)) {
      throw new DockerUnavailableError(`Testcontainers' Ryuk reaper could not start: ${message}`, {
        hint: "set TESTCONTAINERS_RYUK_DISABLED=true where its image cannot be pulled (lms-backup removes its own containers)"
      });
    }
    throw new JobFailedError(`PostgreSQL container from ${image} did not start: ${message}`, {
      hint: `check that ${image} runs PostgreSQL like the official postgres image (POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_DB, "postgres -c name=value" arguments, pg_isready)`
    });
  }
  const id = started.getId();
  const connection = {
    host: reachAt,
    port: started.getPort(),
    user: "postgres",
    database: "postgres",
    password
  };
  let info;
  try {
    const pg = await connectWithRetry(connection);
    try {
      info = await serverInfo(pg);
    } finally {
      await pg.end().catch(() => {
      });
    }
  } catch (error) {
    await teardown.run().catch(() => {
    });
    const message = redactValue(error instanceof Error ? error.message : String(error), password);
    throw new JobFailedError(`PostgreSQL container from ${image} started but does not answer: ${message}`);
  }
  if (opts.major !== void 0 && info.major !== opts.major) {
    logger.warn(`docker image ${image} runs PostgreSQL ${info.version}, not major ${opts.major}`);
  }
  const description = `docker ${image} (${id.slice(0, 12)})`;
  logger.debug(`started ${description} on ${connection.host}:${connection.port}`);
  return {
    engine: "docker",
    connection,
    serverVersion: info.version,
    major: info.major,
    description,
    // A signal's teardown removes the container at once (the registered teardown); a stop
    // deletes a throwaway's files first (deleteServerFiles).
    stop: async () => {
      if (!opts.durable) await deleteServerFiles(client, name).catch(() => {
      });
      await teardown.run();
    }
  };
}

export {
  DEFAULT_DOCKER_MAJOR,
  DockerUnavailableError,
  DockerImageUnavailableError,
  dockerAvailable,
  dockerProblem,
  DockerReaperError,
  dockerImageExists,
  removeLeftoverContainers,
  startDockerPostgres
};
