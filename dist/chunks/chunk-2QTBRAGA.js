import { createRequire as __lmsCreateRequire } from 'node:module';
import { fileURLToPath as __lmsFileURLToPath } from 'node:url';
import { dirname as __lmsDirname } from 'node:path';
var require = __lmsCreateRequire(import.meta.url);
var __filename = __lmsFileURLToPath(import.meta.url);
var __dirname = __lmsDirname(__filename);
import {
  LmsError,
  STALL_CODE,
  StorageAuthError,
  StorageIntegrityError,
  StorageKeyError,
  StorageRequestError,
  isStall
} from "./chunk-KUC23OCA.js";

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
  bufferSource,
  HashingStream,
  hashStream,
  readAll,
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
