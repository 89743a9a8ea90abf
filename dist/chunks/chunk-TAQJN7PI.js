import { createRequire as __lmsCreateRequire } from 'node:module';
import { fileURLToPath as __lmsFileURLToPath } from 'node:url';
import { dirname as __lmsDirname } from 'node:path';
var require = __lmsCreateRequire(import.meta.url);
var __filename = __lmsFileURLToPath(import.meta.url);
var __dirname = __lmsDirname(__filename);
import {
  ChecksumMismatchError,
  ConfigError,
  JobFailedError,
  LmsError
} from "./chunk-6RQLM3KX.js";

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

// src/storage/source.ts
import { createHash } from "node:crypto";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
function bufferSource(data) {
  const buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  return {
    open: () => Readable.from(buf.length ? [buf] : []),
    size: buf.length,
    sha256: createHash("sha256").update(buf).digest("hex")
  };
}
var HashingStream = class extends Transform {
  bytes = 0;
  sha = createHash("sha256");
  md5Hash;
  digests;
  constructor(opts = {}) {
    super();
    this.md5Hash = opts.md5 ? createHash("md5") : void 0;
  }
  _transform(chunk, _enc, cb) {
    this.bytes += chunk.length;
    this.sha.update(chunk);
    this.md5Hash?.update(chunk);
    cb(null, chunk);
  }
  /** Only after the stream ended. */
  result() {
    this.digests ??= { sha256: this.sha.digest("hex"), md5: this.md5Hash?.digest() };
    return { ...this.digests, size: this.bytes };
  }
};
async function hashStream(stream) {
  const sha = createHash("sha256");
  let size = 0;
  await pipeline(stream, async (chunks) => {
    for await (const chunk of chunks) {
      size += chunk.length;
      sha.update(chunk);
    }
  });
  return { sha256: sha.digest("hex"), size };
}
async function readAll(stream) {
  const chunks = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks);
}

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
import http from "node:http";
import https from "node:https";
import { Readable as Readable2 } from "node:stream";
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
var GuardedHttpAgent = class extends http.Agent {
  watch;
  constructor(timeouts, options = {}) {
    super({ keepAlive: true, maxSockets: 50, ...options });
    this.watch = new SocketWatch(timeouts);
  }
  // http.Agent's hook for every request it serves (proxy and keep-alive agents use it too).
  addRequest(req, options) {
    this.watch.attach(req, options);
    http.Agent.prototype.addRequest.call(this, req, options);
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
  const out = new Readable2({
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

// src/storage/faults.ts
var TRANSIENT_CODES = /* @__PURE__ */ new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EADDRNOTAVAIL",
  "ERR_STREAM_PREMATURE_CLOSE",
  "ERR_SOCKET_CONNECTION_TIMEOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "REQUEST_SEND_ERROR",
  "RequestTimeout",
  "RequestTimeTooSkewed",
  "TimeoutError",
  "ServiceUnavailable",
  "SlowDown",
  "InternalError",
  "OperationTimedOut",
  "ServerBusy",
  STALL_CODE
]);
var TRANSIENT_NAMES = /* @__PURE__ */ new Set(["TimeoutError", "RequestTimeout", "AbortError", "ConnectTimeoutError"]);
function asObject(v) {
  return typeof v === "object" && v !== null ? v : void 0;
}
function httpStatusOf(err) {
  const e = asObject(err);
  if (!e) return void 0;
  const candidates = [
    e.statusCode,
    asObject(e.$metadata)?.httpStatusCode,
    asObject(e.response)?.status,
    asObject(e.response)?.statusCode,
    typeof e.code === "number" ? e.code : void 0,
    e.status
  ];
  for (const c of candidates) if (typeof c === "number" && c >= 100 && c < 600) return c;
  return void 0;
}
function errorCodeOf(err) {
  let e = asObject(err);
  for (let depth = 0; e && depth < 6; depth++) {
    const details = asObject(e.details);
    for (const c of [details?.errorCode, e.Code, e.code, e.errno]) {
      if (typeof c === "string" && c) return c;
    }
    e = asObject(e.cause) ?? asObject(e.error);
  }
  return void 0;
}
function codesInChain(err) {
  const out = [];
  let e = asObject(err);
  for (let depth = 0; e && depth < 6; depth++) {
    for (const c of [e.code, e.Code, e.name, e.errno]) if (typeof c === "string") out.push(c);
    e = asObject(e.cause) ?? asObject(e.error);
  }
  const errors = asObject(err)?.errors;
  if (Array.isArray(errors)) for (const inner of errors) out.push(...codesInChain(inner).slice(0, 3));
  return out;
}
function classifyFault(err) {
  if (err instanceof StorageRequestError) {
    return { transient: err.transient, status: err.status, code: void 0, summary: err.message };
  }
  const message = err instanceof Error ? err.message || err.name : String(err);
  const summary = message.split("\n")[0].slice(0, 300);
  if (err instanceof LmsError) return { transient: false, status: void 0, code: void 0, summary };
  if (isStall(err)) return { transient: true, status: void 0, code: void 0, summary };
  const status = httpStatusOf(err);
  const code = errorCodeOf(err);
  if (status !== void 0) {
    const transient2 = status >= 500 || status === 429 || status === 408;
    return { transient: transient2, status, code, summary };
  }
  const chain = codesInChain(err);
  const transient = chain.some((c) => TRANSIENT_CODES.has(c) || TRANSIENT_NAMES.has(c)) || asObject(err)?.$retryable !== void 0 || /socket hang up|network socket disconnected|ECONNRESET|ECONNREFUSED|EPIPE|timed? ?out/i.test(message);
  return { transient, status, code, summary };
}
function describeFault(f) {
  const parts = [f.status !== void 0 ? `HTTP ${f.status}` : void 0, f.code].filter(Boolean);
  return parts.length ? `${f.summary} (${parts.join(" ")})` : f.summary;
}
function toStorageError(err, ctx) {
  if (err instanceof LmsError) return err;
  const fault = classifyFault(err);
  const what = `${ctx.display}: ${ctx.operation}${ctx.key !== void 0 ? ` ${ctx.key}` : ""}`;
  if (fault.status === 401 || fault.status === 403) {
    return new StorageAuthError(`${what} was refused: ${describeFault(fault)}`, {
      location: ctx.display,
      operation: ctx.operation,
      cause: err,
      hint: ctx.authHint
    });
  }
  return new StorageRequestError(`${what} failed: ${describeFault(fault)}`, {
    location: ctx.display,
    operation: ctx.operation,
    ...ctx.key !== void 0 ? { key: ctx.key } : {},
    transient: fault.transient,
    ...fault.status !== void 0 ? { status: fault.status } : {},
    cause: err
  });
}

// src/storage/keys.ts
var TEMP_PREFIX = ".tmp-";
var UNSAFE = /[\\:*?"<>|\u0000-\u001f\u007f]/;
function validateKey(key) {
  if (typeof key !== "string" || key.length === 0) throw new StorageKeyError("storage key is empty");
  if (Buffer.byteLength(key) > 1024) {
    throw new StorageKeyError(`storage key is longer than 1024 bytes: ${key.slice(0, 80)}\u2026`);
  }
  if (key.startsWith("/") || /^[A-Za-z]:/.test(key)) {
    throw new StorageKeyError(`storage key "${key}" is absolute`, {
      hint: 'keys are relative to the destination root, e.g. "db/lms_20240115_020000.dump.age"'
    });
  }
  if (UNSAFE.test(key)) {
    throw new StorageKeyError(`storage key "${printable(key)}" contains a character that is not portable`, {
      hint: 'use letters, digits, "/", ".", "_" and "-"'
    });
  }
  for (const segment of key.split("/")) {
    if (segment === "" || segment === "." || segment === "..") {
      throw new StorageKeyError(`storage key "${key}" has an empty, "." or ".." segment`, {
        hint: 'keys are plain relative names without "..", "./" or "//"'
      });
    }
    if (segment.startsWith(TEMP_PREFIX)) {
      throw new StorageKeyError(`storage key "${key}" uses the reserved temp prefix "${TEMP_PREFIX}"`);
    }
  }
  return key;
}
function validatePrefix(prefix) {
  if (prefix === "") return prefix;
  const body = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  if (body === "") throw new StorageKeyError('storage list prefix "/" is absolute');
  validateKey(body);
  return prefix;
}
function joinRoot(root, key) {
  return root ? `${root}/${key}` : key;
}
function normaliseRoot(path) {
  const trimmed = path.replace(/^\/+|\/+$/g, "");
  if (trimmed === "") return "";
  validateKey(trimmed);
  return trimmed;
}
function printable(s) {
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

// src/storage/verify.ts
function integrityError(display, key, expected, actual, what = "stored object") {
  const detail = expected.size !== actual.size ? `${actual.size} bytes, expected ${expected.size}` : `SHA-256 ${actual.sha256 ?? "?"}, expected ${expected.sha256 ?? "?"}`;
  return new StorageIntegrityError(`${display}: ${what} ${key} does not match: ${detail}`, {
    location: display,
    key,
    expected,
    actual,
    hint: "the bytes changed after they were written (corruption or tampering); do not trust this copy: use another destination or backup"
  });
}

export {
  StorageNotFoundError,
  StorageConflictError,
  conflictError,
  StorageAuthError,
  StorageConfigError,
  StorageKeyError,
  StorageUnavailableError,
  StorageTimeoutError,
  StorageRequestError,
  bufferSource,
  HashingStream,
  hashStream,
  readAll,
  STORAGE_TIMEOUT_ENV,
  storageTimeouts,
  DEFAULT_STORAGE_TIMEOUTS,
  storageTimeoutsFromEnv,
  formatSeconds,
  StallError,
  isStall,
  stallWaitedMs,
  guardedAgents,
  guardDownload,
  withDeadline,
  downloadStalled,
  metadataDeadline,
  watchProgress,
  httpStatusOf,
  errorCodeOf,
  classifyFault,
  describeFault,
  toStorageError,
  TEMP_PREFIX,
  validateKey,
  validatePrefix,
  joinRoot,
  normaliseRoot,
  integrityError
};
