/**
 * Watchdogs that keep every storage call bounded, independent of what each SDK's own timeout
 * options do (the S3 SDK's requestTimeout only warns unless throwOnRequestTimeout is set; the
 * Azure SDK sets none; the GCS SDK turns its timeout off for uploads):
 *   - GuardedHttpAgent / GuardedHttpsAgent watch every socket that carries a request: a connect
 *     that takes longer than connectMs, or no byte moving either way for idleMs (no answer, a
 *     server that stopped reading our upload, an answer that stopped arriving), destroys the
 *     request with a StallError. A socket paused because *we* are slow to read is not stalled.
 *   - guardDownload wraps a download stream: while the consumer wants data and none arrives for
 *     idleMs, the stream fails with the error the caller builds (whatever the SDK does inside).
 *   - withDeadline bounds a call that moves no data (head, delete, a listing page).
 * A StallError is no LmsError: the backends map it, and the retry decorator treats it as transient.
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { StorageTimeoutError } from './errors.js';
import { formatSeconds, STORAGE_TIMEOUT_ENV, type StorageTimeouts } from './timeouts.js';

export const STALL_CODE = 'ELMSSTALL';

export type StallPhase = 'connect' | 'send' | 'answer' | 'receive' | 'download' | 'deadline';

/**
 * A request abandoned because nothing moved. The message avoids the words the SDKs' own retry
 * policies match on ("timeout", "ETIMEDOUT"), so a stall is retried once, by withRetry, within
 * the overall bound, and not again inside each SDK.
 */
export class StallError extends Error {
  readonly code = STALL_CODE;
  constructor(
    readonly phase: StallPhase,
    readonly waitedMs: number,
    readonly target: string,
  ) {
    super(`${target} stalled: ${describePhase(phase, waitedMs)}`);
    this.name = 'StallError';
  }
}

export function describePhase(phase: StallPhase, waitedMs: number): string {
  const t = formatSeconds(waitedMs);
  switch (phase) {
    case 'connect':
      return `no connection within ${t}`;
    case 'send':
      return `the server stopped reading what we sent (nothing moved for ${t})`;
    case 'answer':
      return `no answer ${t} after the request was sent`;
    case 'receive':
      return `the answer stopped arriving (nothing received for ${t})`;
    case 'download':
      return `the download stopped arriving (nothing received for ${t})`;
    case 'deadline':
      return `no result within ${t}`;
  }
}

/** True when `err`, or anything in its cause chain, is a stall (by class, code or message). */
export function isStall(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < 8; depth++) {
    const o = e as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; error?: unknown };
    if (e instanceof StallError || o.code === STALL_CODE || o.name === 'StallError') return true;
    if (typeof o.message === 'string' && / stalled: /.test(o.message)) return true;
    e = o.cause ?? o.error;
  }
  return false;
}

/** How long the stall in `err` waited with nothing moving, when its StallError is still in the chain. */
export function stallWaitedMs(err: unknown): number | undefined {
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < 8; depth++) {
    if (e instanceof StallError) return e.waitedMs;
    const o = e as { cause?: unknown; error?: unknown };
    e = o.cause ?? o.error;
  }
  return undefined;
}

interface Watched {
  req: http.ClientRequest;
  socket: Socket;
  target: string;
  since: number;
  signature: string;
  response: http.IncomingMessage | undefined;
}

/** Watches the sockets of one agent's requests (see the module comment). */
class SocketWatch {
  private readonly watched = new Set<Watched>();
  private ticker: NodeJS.Timeout | undefined;

  constructor(readonly timeouts: StorageTimeouts) {}

  attach(req: http.ClientRequest, options: http.RequestOptions): void {
    const target = `${options.host ?? options.hostname ?? 'localhost'}:${options.port ?? ''}`;
    req.once('socket', (socket: Socket) => this.watch(req, socket, target));
  }

  private watch(req: http.ClientRequest, socket: Socket, target: string): void {
    const entry: Watched = {
      req,
      socket,
      target,
      since: Date.now(),
      signature: signatureOf(socket),
      response: undefined,
    };
    this.watched.add(entry);
    req.once('response', (res: http.IncomingMessage) => {
      entry.response = res;
    });
    req.once('close', () => this.watched.delete(entry));
    if (!this.ticker) {
      this.ticker = setInterval(
        () => this.check(),
        Math.max(50, Math.min(1000, Math.floor(this.timeouts.idleMs / 5))),
      );
      this.ticker.unref();
    }
  }

  private check(): void {
    const now = Date.now();
    for (const entry of this.watched) {
      const { socket, req, response } = entry;
      if (socket.destroyed) {
        this.watched.delete(entry);
        continue;
      }
      const signature = signatureOf(socket);
      // Paused with nothing left to send: our reader is slow, the server is not silent.
      const waitingForUs = response !== undefined && socket.isPaused() && socket.writableLength === 0;
      if (signature !== entry.signature || waitingForUs) {
        entry.signature = signature;
        entry.since = now;
        continue;
      }
      const phase: StallPhase = socket.connecting
        ? 'connect'
        : response
          ? 'receive'
          : req.writableFinished
            ? 'answer'
            : 'send';
      const limit =
        phase === 'connect'
          ? this.timeouts.connectMs
          : phase === 'answer'
            ? this.timeouts.firstByteMs
            : this.timeouts.idleMs;
      if (now - entry.since < limit) continue;
      this.watched.delete(entry);
      const err = new StallError(phase, now - entry.since, entry.target);
      response?.destroy(err);
      req.destroy(err);
      socket.destroy(err);
    }
    if (this.watched.size === 0) this.stop();
  }

  stop(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }
}

type AddRequest = (req: http.ClientRequest, options: http.RequestOptions) => void;

/** An http.Agent whose requests cannot hang (keep-alive, like the SDKs' own agents). */
export class GuardedHttpAgent extends http.Agent {
  private readonly watch: SocketWatch;
  constructor(timeouts: StorageTimeouts, options: http.AgentOptions = {}) {
    super({ keepAlive: true, maxSockets: 50, ...options });
    this.watch = new SocketWatch(timeouts);
  }
  // http.Agent's hook for every request it serves (proxy and keep-alive agents use it too).
  addRequest(req: http.ClientRequest, options: http.RequestOptions): void {
    this.watch.attach(req, options);
    (http.Agent.prototype as unknown as { addRequest: AddRequest }).addRequest.call(this, req, options);
  }
  override destroy(): void {
    this.watch.stop();
    super.destroy();
  }
}

/** The https twin of GuardedHttpAgent. */
export class GuardedHttpsAgent extends https.Agent {
  private readonly watch: SocketWatch;
  constructor(timeouts: StorageTimeouts, options: https.AgentOptions = {}) {
    super({ keepAlive: true, maxSockets: 50, ...options });
    this.watch = new SocketWatch(timeouts);
  }
  addRequest(req: http.ClientRequest, options: http.RequestOptions): void {
    this.watch.attach(req, options);
    (https.Agent.prototype as unknown as { addRequest: AddRequest }).addRequest.call(this, req, options);
  }
  override destroy(): void {
    this.watch.stop();
    super.destroy();
  }
}

function signatureOf(socket: Socket): string {
  const handle = (socket as unknown as { _handle?: { writeQueueSize?: number } })._handle;
  return `${socket.bytesRead}/${socket.bytesWritten}/${socket.writableLength}/${handle?.writeQueueSize ?? 0}`;
}

/** One agent per protocol for a destination. */
export function guardedAgents(timeouts: StorageTimeouts): {
  http: GuardedHttpAgent;
  https: GuardedHttpsAgent;
} {
  return { http: new GuardedHttpAgent(timeouts), https: new GuardedHttpsAgent(timeouts) };
}

/**
 * A download that fails when it stops: while the consumer is ready for more and nothing arrives
 * for `idleMs`, the returned stream is destroyed with `onStall(waitedMs)` (and the source with
 * it). Time the consumer spends not reading never counts.
 */
export function guardDownload(
  source: Readable,
  idleMs: number,
  onStall: (waitedMs: number) => Error,
): Readable {
  let timer: NodeJS.Timeout | undefined;
  let since = Date.now();
  const arm = () => {
    if (timer) return;
    since = Date.now();
    timer = setTimeout(() => {
      timer = undefined;
      const err = onStall(Date.now() - since);
      source.destroy(err);
      out.destroy(err);
    }, idleMs);
  };
  const disarm = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  const out = new Readable({
    read() {
      arm();
      source.resume();
    },
    destroy(err, cb) {
      disarm();
      if (!source.destroyed) source.destroy(err ?? undefined);
      cb(err);
    },
  });
  source.on('data', (chunk: Buffer) => {
    disarm();
    if (out.push(chunk)) arm();
    else source.pause();
  });
  source.once('end', () => {
    disarm();
    out.push(null);
  });
  source.once('error', (err) => {
    disarm();
    out.destroy(err);
  });
  source.pause();
  return out;
}

/**
 * Runs `fn` with a signal that aborts after `ms`; rejects with a StallError ('deadline') then,
 * even when the SDK ignores the signal (the stray request is left to its own guards).
 */
export async function withDeadline<T>(
  ms: number,
  target: string,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new StallError('deadline', ms, target);
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

/** The error a guarded download fails with: names the destination, the key and what to do. */
export function downloadStalled(
  display: string,
  key: string,
  waitedMs: number,
  timeouts: StorageTimeouts,
): StorageTimeoutError {
  return new StorageTimeoutError(`${display}: get ${key} failed: ${describePhase('download', waitedMs)}`, {
    location: display,
    key,
    operation: 'get',
    attempts: 1,
    silentMs: waitedMs,
    boundMs: timeouts.idleMs,
    hint: `check that the storage service at ${display} is up and reachable from here, then run again; if it is only slow, raise ${STORAGE_TIMEOUT_ENV} (seconds, now ${timeouts.totalMs / 1000})`,
  });
}

/** A backstop for calls that move no data: the agent's guard normally ends them first. */
export function metadataDeadline(timeouts: StorageTimeouts): number {
  return timeouts.connectMs + timeouts.firstByteMs + timeouts.idleMs;
}

/**
 * Calls `onStall` once when `progress()` has not changed for `limitMs()` (checked a few times
 * a period); returns a function that stops watching. For uploads whose requests our agents
 * cannot see (the GCS SDK's single-request uploads).
 */
export function watchProgress(
  progress: () => number,
  limitMs: () => number,
  onStall: (waitedMs: number) => void,
): () => void {
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
    Math.max(50, Math.min(1000, Math.floor(limitMs() / 5))),
  );
  timer.unref();
  return () => clearInterval(timer);
}
