import { LmsError } from '../errors.js';
import { StorageAuthError, type StorageOperation, StorageRequestError } from './errors.js';
import { isStall, STALL_CODE } from './guard.js';

/** Socket-level failures worth another try: the peer went away, the network blinked, a timeout. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EADDRNOTAVAIL',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'REQUEST_SEND_ERROR',
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'TimeoutError',
  'ServiceUnavailable',
  'SlowDown',
  'InternalError',
  'OperationTimedOut',
  'ServerBusy',
  STALL_CODE,
]);

const TRANSIENT_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'AbortError', 'ConnectTimeoutError']);

export interface Fault {
  /** Trying again may help. */
  transient: boolean;
  /** HTTP status, when the service answered. */
  status: number | undefined;
  /** A service or socket error code (e.g. "BlobAlreadyExists", "ECONNRESET"). */
  code: string | undefined;
  /** One line for a person. */
  summary: string;
}

type Loose = Record<string, unknown>;

function asObject(v: unknown): Loose | undefined {
  return typeof v === 'object' && v !== null ? (v as Loose) : undefined;
}

/** The HTTP status of an Azure RestError, an AWS ServiceException or a GCS ApiError/GaxiosError. */
export function httpStatusOf(err: unknown): number | undefined {
  const e = asObject(err);
  if (!e) return undefined;
  const candidates = [
    e.statusCode,
    asObject(e.$metadata)?.httpStatusCode,
    asObject(e.response)?.status,
    asObject(e.response)?.statusCode,
    typeof e.code === 'number' ? e.code : undefined,
    e.status,
  ];
  for (const c of candidates) if (typeof c === 'number' && c >= 100 && c < 600) return c;
  return undefined;
}

/** The service's error code or the socket error code, looking through `cause` chains. */
export function errorCodeOf(err: unknown): string | undefined {
  let e = asObject(err);
  for (let depth = 0; e && depth < 6; depth++) {
    const details = asObject(e.details);
    for (const c of [details?.errorCode, e.Code, e.code, e.errno]) {
      if (typeof c === 'string' && c) return c;
    }
    e = asObject(e.cause) ?? asObject(e.error);
  }
  return undefined;
}

function codesInChain(err: unknown): string[] {
  const out: string[] = [];
  let e = asObject(err);
  for (let depth = 0; e && depth < 6; depth++) {
    for (const c of [e.code, e.Code, e.name, e.errno]) if (typeof c === 'string') out.push(c);
    e = asObject(e.cause) ?? asObject(e.error);
  }
  // GCS ApiError keeps the underlying failures in `errors`.
  const errors = asObject(err)?.errors;
  if (Array.isArray(errors)) for (const inner of errors) out.push(...codesInChain(inner).slice(0, 3));
  return out;
}

/** Classifies any thrown value from an SDK, a socket or our own code. */
export function classifyFault(err: unknown): Fault {
  if (err instanceof StorageRequestError) {
    return { transient: err.transient, status: err.status, code: undefined, summary: err.message };
  }
  const message = err instanceof Error ? err.message || err.name : String(err);
  const summary = message.split('\n')[0]!.slice(0, 300);
  if (err instanceof LmsError) return { transient: false, status: undefined, code: undefined, summary };
  if (isStall(err)) return { transient: true, status: undefined, code: undefined, summary };
  const status = httpStatusOf(err);
  const code = errorCodeOf(err);
  if (status !== undefined) {
    const transient = status >= 500 || status === 429 || status === 408;
    return { transient, status, code, summary };
  }
  const chain = codesInChain(err);
  const transient =
    chain.some((c) => TRANSIENT_CODES.has(c) || TRANSIENT_NAMES.has(c)) ||
    asObject(err)?.$retryable !== undefined ||
    /socket hang up|network socket disconnected|ECONNRESET|ECONNREFUSED|EPIPE|timed? ?out/i.test(message);
  return { transient, status, code, summary };
}

/** The fault as one parenthesised detail: "(HTTP 503 ServerBusy)", "(ECONNRESET)". */
export function describeFault(f: Fault): string {
  const parts = [f.status !== undefined ? `HTTP ${f.status}` : undefined, f.code].filter(Boolean);
  return parts.length ? `${f.summary} (${parts.join(' ')})` : f.summary;
}

/**
 * The common tail of every backend's error mapping: our own errors pass through, 401/403
 * become StorageAuthError with the backend's hint, and the rest a StorageRequestError that
 * says whether a retry may help.
 */
export function toStorageError(
  err: unknown,
  ctx: { display: string; operation: StorageOperation; key?: string; authHint: string },
): Error {
  if (err instanceof LmsError) return err;
  const fault = classifyFault(err);
  const what = `${ctx.display}: ${ctx.operation}${ctx.key !== undefined ? ` ${ctx.key}` : ''}`;
  if (fault.status === 401 || fault.status === 403) {
    return new StorageAuthError(`${what} was refused: ${describeFault(fault)}`, {
      location: ctx.display,
      operation: ctx.operation,
      cause: err,
      hint: ctx.authHint,
    });
  }
  return new StorageRequestError(`${what} failed: ${describeFault(fault)}`, {
    location: ctx.display,
    operation: ctx.operation,
    ...(ctx.key !== undefined ? { key: ctx.key } : {}),
    transient: fault.transient,
    ...(fault.status !== undefined ? { status: fault.status } : {}),
    cause: err,
  });
}
