import { createRequire as __lmsCreateRequire } from 'node:module';
import { fileURLToPath as __lmsFileURLToPath } from 'node:url';
import { dirname as __lmsDirname } from 'node:path';
var require = __lmsCreateRequire(import.meta.url);
var __filename = __lmsFileURLToPath(import.meta.url);
var __dirname = __lmsDirname(__filename);
import {
  init_node_http,
  node_http_default
} from "./chunk-6OU3VEHW.js";

// src/errors.ts
var LmsError = class extends Error {
  hint;
  constructor(message, options = {}) {
    super(message, options.cause === void 0 ? void 0 : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
};
var ConfigError = class extends LmsError {
  exitCode = 2;
};
var ConfigErrors = class extends ConfigError {
  problems;
  constructor(problems) {
    super(
      problems.length === 1 ? problems[0].message : `${problems.length} configuration problems:
${problems.map((p) => `  - ${p.message}${p.hint ? ` (${p.hint})` : ""}`).join("\n")}`,
      problems.length === 1 && problems[0].hint ? { hint: problems[0].hint } : {}
    );
    this.problems = problems;
  }
};
var JobFailedError = class extends LmsError {
  exitCode = 1;
};
var PgVersionMismatchError = class extends ConfigError {
};
var PgConnectionConfigError = class extends ConfigError {
};
var PgUnreachableError = class extends JobFailedError {
};
var PgToolFailedError = class extends JobFailedError {
};
var ChecksumMismatchError = class extends JobFailedError {
};
function describeError(error) {
  if (error instanceof LmsError)
    return error.hint ? `${error.message}
  hint: ${error.hint}` : error.message;
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}

// src/storage/errors.ts
var StorageNotFoundError = class extends JobFailedError {
  location;
  key;
  constructor(message, ctx = {}) {
    super(message, ctx);
    this.location = ctx.location;
    this.key = ctx.key;
  }
};
var StorageConflictError = class extends JobFailedError {
  location;
  key;
  constructor(message, ctx = {}) {
    super(message, {
      hint: "an object with this name already exists and is never overwritten; choose a new name or delete the old object deliberately",
      ...ctx
    });
    this.location = ctx.location;
    this.key = ctx.key;
  }
};
function conflictError(location, key) {
  return new StorageConflictError(`${location}: ${key} already exists`, { location, key, operation: "put" });
}
var StorageAuthError = class extends ConfigError {
  location;
  constructor(message, ctx = {}) {
    super(message, ctx);
    this.location = ctx.location;
  }
};
var StorageConfigError = class extends ConfigError {
};
var StorageKeyError = class extends ConfigError {
};
var StorageUnavailableError = class extends JobFailedError {
  location;
  key;
  operation;
  attempts;
  constructor(message, ctx) {
    super(message, ctx);
    this.location = ctx.location;
    this.key = ctx.key;
    this.operation = ctx.operation;
    this.attempts = ctx.attempts;
  }
};
var StorageTimeoutError = class extends StorageUnavailableError {
  /** How long the destination had been silent when we gave up. */
  silentMs;
  /** The overall bound in force. */
  boundMs;
  constructor(message, ctx) {
    super(message, ctx);
    this.silentMs = ctx.silentMs;
    this.boundMs = ctx.boundMs;
  }
};
var StorageIntegrityError = class extends ChecksumMismatchError {
  location;
  key;
  expected;
  actual;
  constructor(message, ctx) {
    super(message, ctx);
    this.location = ctx.location;
    this.key = ctx.key;
    this.expected = ctx.expected;
    this.actual = ctx.actual;
  }
};
var StorageRequestError = class extends JobFailedError {
  transient;
  status;
  location;
  operation;
  constructor(message, ctx) {
    super(message, ctx);
    this.transient = ctx.transient;
    this.status = ctx.status;
    this.location = ctx.location;
    this.operation = ctx.operation;
  }
};

// src/storage/timeouts.ts
var STORAGE_TIMEOUT_ENV = "LMS_BACKUP_STORAGE_TIMEOUT";
var DEFAULT_STORAGE_TIMEOUT_S = 180;
function storageTimeouts(totalMs) {
  const total = Math.max(1e3, Math.round(totalMs));
  const idleMs = Math.max(250, Math.min(6e4, Math.floor(total / 4)));
  const firstByteMs = Math.max(idleMs, Math.min(12e4, Math.floor(total * 0.45)));
  const connectMs = Math.min(1e4, idleMs);
  return { connectMs, firstByteMs, idleMs, totalMs: total };
}
var DEFAULT_STORAGE_TIMEOUTS = storageTimeouts(DEFAULT_STORAGE_TIMEOUT_S * 1e3);
function storageTimeoutsFromEnv(env) {
  const raw = env[STORAGE_TIMEOUT_ENV]?.trim();
  if (!raw) return DEFAULT_STORAGE_TIMEOUTS;
  const seconds = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw) || !Number.isFinite(seconds) || seconds < 1 || seconds > 86400) {
    throw new StorageConfigError(`${STORAGE_TIMEOUT_ENV}="${raw.slice(0, 40)}" is not a number of seconds`, {
      hint: `set it to the seconds a destination may stop answering before the run fails, from 1 to 86400 (default ${DEFAULT_STORAGE_TIMEOUT_S}); storage calls are never unbounded`
    });
  }
  return storageTimeouts(seconds * 1e3);
}
function formatSeconds(ms) {
  if (ms >= 12e4 && ms % 6e4 === 0) return `${ms / 6e4} min`;
  const s = ms / 1e3;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

// src/storage/guard.ts
init_node_http();
import https from "node:https";
import { Readable } from "node:stream";
var STALL_CODE = "ELMSSTALL";
var StallError = class extends Error {
  constructor(phase, waitedMs, target) {
    super(`${target} stalled: ${describePhase(phase, waitedMs)}`);
    this.phase = phase;
    this.waitedMs = waitedMs;
    this.target = target;
    this.name = "StallError";
  }
  phase;
  waitedMs;
  target;
  code = STALL_CODE;
};
function describePhase(phase, waitedMs) {
  const t = formatSeconds(waitedMs);
  switch (phase) {
    case "connect":
      return `no connection within ${t}`;
    case "send":
      return `the server stopped reading what we sent (nothing moved for ${t})`;
    case "answer":
      return `no answer ${t} after the request was sent`;
    case "receive":
      return `the answer stopped arriving (nothing received for ${t})`;
    case "download":
      return `the download stopped arriving (nothing received for ${t})`;
    case "deadline":
      return `no result within ${t}`;
  }
}
function isStall(err) {
  let e = err;
  for (let depth = 0; e && typeof e === "object" && depth < 8; depth++) {
    const o = e;
    if (e instanceof StallError || o.code === STALL_CODE || o.name === "StallError") return true;
    if (typeof o.message === "string" && / stalled: /.test(o.message)) return true;
    e = o.cause ?? o.error;
  }
  return false;
}
function stallWaitedMs(err) {
  let e = err;
  for (let depth = 0; e && typeof e === "object" && depth < 8; depth++) {
    if (e instanceof StallError) return e.waitedMs;
    const o = e;
    e = o.cause ?? o.error;
  }
  return void 0;
}
var SocketWatch = class {
  constructor(timeouts) {
    this.timeouts = timeouts;
  }
  timeouts;
  watched = /* @__PURE__ */ new Set();
  ticker;
  attach(req, options) {
    const target = `${options.host ?? options.hostname ?? "localhost"}:${options.port ?? ""}`;
    req.once("socket", (socket) => this.watch(req, socket, target));
  }
  watch(req, socket, target) {
    const entry = {
      req,
      socket,
      target,
      since: Date.now(),
      signature: signatureOf(socket),
      response: void 0
    };
    this.watched.add(entry);
    req.once("response", (res) => {
      entry.response = res;
    });
    req.once("close", () => this.watched.delete(entry));
    if (!this.ticker) {
      this.ticker = setInterval(
        () => this.check(),
        Math.max(50, Math.min(1e3, Math.floor(this.timeouts.idleMs / 5)))
      );
      this.ticker.unref();
    }
  }
  check() {
    const now = Date.now();
    for (const entry of this.watched) {
      const { socket, req, response } = entry;
      if (socket.destroyed) {
        this.watched.delete(entry);
        continue;
      }
      const signature = signatureOf(socket);
      const waitingForUs = response !== void 0 && socket.isPaused() && socket.writableLength === 0;
      if (signature !== entry.signature || waitingForUs) {
        entry.signature = signature;
        entry.since = now;
        continue;
      }
      const phase = socket.connecting ? "connect" : response ? "receive" : req.writableFinished ? "answer" : "send";
      const limit = phase === "connect" ? this.timeouts.connectMs : phase === "answer" ? this.timeouts.firstByteMs : this.timeouts.idleMs;
      if (now - entry.since < limit) continue;
      this.watched.delete(entry);
      const err = new StallError(phase, now - entry.since, entry.target);
      response?.destroy(err);
      req.destroy(err);
      socket.destroy(err);
    }
    if (this.watched.size === 0) this.stop();
  }
  stop() {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = void 0;
  }
};
var GuardedHttpAgent = class extends node_http_default.Agent {
  watch;
  constructor(timeouts, options = {}) {
    super({ keepAlive: true, maxSockets: 50, ...options });
    this.watch = new SocketWatch(timeouts);
  }
  // http.Agent's hook for every request it serves (proxy and keep-alive agents use it too).
  addRequest(req, options) {
    this.watch.attach(req, options);
    node_http_default.Agent.prototype.addRequest.call(this, req, options);
  }
  destroy() {
    this.watch.stop();
    super.destroy();
  }
};
var GuardedHttpsAgent = class extends https.Agent {
  watch;
  constructor(timeouts, options = {}) {
    super({ keepAlive: true, maxSockets: 50, ...options });
    this.watch = new SocketWatch(timeouts);
  }
  addRequest(req, options) {
    this.watch.attach(req, options);
    https.Agent.prototype.addRequest.call(this, req, options);
  }
  destroy() {
    this.watch.stop();
    super.destroy();
  }
};
function signatureOf(socket) {
  const handle = socket._handle;
  return `${socket.bytesRead}/${socket.bytesWritten}/${socket.writableLength}/${handle?.writeQueueSize ?? 0}`;
}
function guardedAgents(timeouts) {
  return { http: new GuardedHttpAgent(timeouts), https: new GuardedHttpsAgent(timeouts) };
}
function guardDownload(source, idleMs, onStall) {
  let timer;
  let since = Date.now();
  const arm = () => {
    if (timer) return;
    since = Date.now();
    timer = setTimeout(() => {
      timer = void 0;
      const err = onStall(Date.now() - since);
      source.destroy(err);
      out.destroy(err);
    }, idleMs);
  };
  const disarm = () => {
    if (timer) clearTimeout(timer);
    timer = void 0;
  };
  const out = new Readable({
    read() {
      arm();
      source.resume();
    },
    destroy(err, cb) {
      disarm();
      if (!source.destroyed) source.destroy(err ?? void 0);
      cb(err);
    }
  });
  source.on("data", (chunk) => {
    disarm();
    if (out.push(chunk)) arm();
    else source.pause();
  });
  source.once("end", () => {
    disarm();
    out.push(null);
  });
  source.once("error", (err) => {
    disarm();
    out.destroy(err);
  });
  source.pause();
  return out;
}
async function withDeadline(ms, target, fn) {
  const controller = new AbortController();
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => {
      const err = new StallError("deadline", ms, target);
      controller.abort(err);
      reject(err);
    }, ms);
  });
  try {
    return await Promise.race([fn(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
function downloadStalled(display, key, waitedMs, timeouts) {
  return new StorageTimeoutError(`${display}: get ${key} failed: ${describePhase("download", waitedMs)}`, {
    location: display,
    key,
    operation: "get",
    attempts: 1,
    silentMs: waitedMs,
    boundMs: timeouts.idleMs,
    hint: `check that the storage service at ${display} is up and reachable from here, then run again; if it is only slow, raise ${STORAGE_TIMEOUT_ENV} (seconds, now ${timeouts.totalMs / 1e3})`
  });
}
function metadataDeadline(timeouts) {
  return timeouts.connectMs + timeouts.firstByteMs + timeouts.idleMs;
}
function watchProgress(progress, limitMs, onStall) {
  let last = progress();
  let since = Date.now();
  const timer = setInterval(
    () => {
      const now = Date.now();
      const current = progress();
      if (current !== last) {
        last = current;
        since = now;
      } else if (now - since >= limitMs()) {
        clearInterval(timer);
        onStall(now - since);
      }
    },
    Math.max(50, Math.min(1e3, Math.floor(limitMs() / 5)))
  );
  timer.unref();
  return () => clearInterval(timer);
}

// src/log.ts
var nullLogger = {
  debug() {
  },
  info() {
  },
  warn() {
  },
  error() {
  },
  group: (_title, fn) => fn()
};

export {
  LmsError,
  ConfigError,
  ConfigErrors,
  JobFailedError,
  PgVersionMismatchError,
  PgConnectionConfigError,
  PgUnreachableError,
  PgToolFailedError,
  ChecksumMismatchError,
  describeError,
  StorageNotFoundError,
  StorageConflictError,
  conflictError,
  StorageAuthError,
  StorageConfigError,
  StorageKeyError,
  StorageUnavailableError,
  StorageTimeoutError,
  StorageIntegrityError,
  StorageRequestError,
  STORAGE_TIMEOUT_ENV,
  storageTimeouts,
  DEFAULT_STORAGE_TIMEOUTS,
  storageTimeoutsFromEnv,
  formatSeconds,
  STALL_CODE,
  StallError,
  isStall,
  stallWaitedMs,
  guardedAgents,
  guardDownload,
  withDeadline,
  downloadStalled,
  metadataDeadline,
  watchProgress,
  nullLogger
};
