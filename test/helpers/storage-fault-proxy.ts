/**
 * A loopback HTTP proxy in front of a storage emulator that injects faults:
 *   - failNext(n, status): the next n requests are answered with `status` (503 by default)
 *     after their body was read, the way an overloaded front end answers;
 *   - cutUploadsOver(bytes, times): a request whose body passes `bytes` has its connection
 *     destroyed mid-upload (the client sees a reset), `times` times (default: always);
 *   - cutDownloadsOver(bytes, times): an answer whose body passes `bytes` has its connection
 *     destroyed mid-download (the client sees the body break off), `times` times;
 *   - down(true): every new connection is reset at once (the store is unreachable).
 * Everything else is forwarded unchanged (headers included, so request signatures still hold).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface FaultProxy {
  port: number;
  failNext(n: number, status?: number): void;
  cutUploadsOver(bytes: number, times?: number): void;
  cutDownloadsOver(bytes: number, times?: number): void;
  down(on: boolean): void;
  /** Counters: requests seen, answered with an injected status, connections cut. */
  stats: { requests: number; injected: number; cuts: number; forwarded: number };
  stop(): Promise<void>;
}

export async function startFaultProxy(target: { port: number; host?: string }): Promise<FaultProxy> {
  const host = target.host ?? '127.0.0.1';
  const stats = { requests: 0, injected: 0, cuts: 0, forwarded: 0 };
  let failures = 0;
  let failStatus = 503;
  let cutOver = Number.POSITIVE_INFINITY;
  let cutsLeft = 0;
  let cutDownOver = Number.POSITIVE_INFINITY;
  let downCutsLeft = 0;
  let isDown = false;
  const agent = new http.Agent({ keepAlive: true });
  const sockets = new Set<Socket>();

  const server = http.createServer((req, res) => {
    stats.requests++;
    if (failures > 0) {
      failures--;
      stats.injected++;
      req.resume();
      req.on('end', () => {
        const body = errorBody(failStatus, String(req.headers['user-agent'] ?? ''));
        res.writeHead(failStatus, {
          'content-type': body.type,
          'content-length': Buffer.byteLength(body.text),
        });
        res.end(body.text);
      });
      return;
    }
    const upstream = http.request(
      { host, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        let received = 0;
        let broken = false;
        up.on('data', (chunk: Buffer) => {
          if (broken) return;
          received += chunk.length;
          if (downCutsLeft > 0 && received > cutDownOver) {
            broken = true;
            downCutsLeft--;
            stats.cuts++;
            // What got through before the cut, then the connection breaks off.
            res.write(chunk.subarray(0, chunk.length - (received - cutDownOver)), () =>
              res.socket?.destroy(),
            );
            up.destroy();
            return;
          }
          if (!res.write(chunk)) {
            up.pause();
            res.once('drain', () => up.resume());
          }
        });
        up.on('end', () => {
          if (!broken) res.end();
        });
      },
    );
    stats.forwarded++;
    let sent = 0;
    let cut = false;
    req.on('data', (chunk: Buffer) => {
      sent += chunk.length;
      if (!cut && cutsLeft > 0 && sent > cutOver) {
        cut = true;
        cutsLeft--;
        stats.cuts++;
        upstream.destroy();
        req.socket.destroy();
        return;
      }
      if (!cut && !upstream.write(chunk)) {
        req.pause();
        upstream.once('drain', () => req.resume());
      }
    });
    req.on('end', () => {
      if (!cut) upstream.end();
    });
    upstream.on('error', () => {
      if (!res.headersSent) res.socket?.destroy();
      else res.destroy();
    });
    req.on('error', () => upstream.destroy());
  });
  server.on('connection', (socket: Socket) => {
    if (isDown) {
      socket.resetAndDestroy?.() ?? socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    stats,
    failNext(n, status = 503) {
      failures = n;
      failStatus = status;
    },
    cutUploadsOver(bytes, times = Number.POSITIVE_INFINITY) {
      cutOver = bytes;
      cutsLeft = times;
    },
    cutDownloadsOver(bytes, times = Number.POSITIVE_INFINITY) {
      cutDownOver = bytes;
      downCutsLeft = times;
    },
    down(on) {
      isDown = on;
      if (on) for (const s of sockets) s.destroy();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}

/** An error body in the dialect of the client that asked (they parse it for the error code). */
function errorBody(status: number, userAgent: string): { type: string; text: string } {
  if (/gcloud-node-storage|gl-node/.test(userAgent)) {
    return {
      type: 'application/json',
      text: JSON.stringify({
        error: {
          code: status,
          message: 'injected fault',
          errors: [{ reason: 'backendError', message: 'injected fault' }],
        },
      }),
    };
  }
  const code =
    status === 503 ? (/azsdk/.test(userAgent) ? 'ServerBusy' : 'ServiceUnavailable') : 'InternalError';
  return {
    type: 'application/xml',
    text: `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>injected fault</Message></Error>`,
  };
}
