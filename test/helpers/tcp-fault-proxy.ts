/**
 * Byte-level faults between a storage client and its emulator, below HTTP:
 *   - startTcpProxy(target): forwards both ways; stall(true) stops forwarding and reading in both
 *     directions on every connection, open or new (the peer looks alive at the TCP level but
 *     reads and answers nothing, like a stopped process); throttle() forwards in small slices
 *     with pauses (a slow link that still moves), optionally holding back the first answer byte.
 *   - startSilentServer(): accepts connections and never reads or answers.
 */
import net, { type AddressInfo, type Socket } from 'node:net';

/**
 * Slices of `sliceBytes` with `pauseMs` between them; uploads (client → server) in slices of
 * `upSliceBytes` when given; the first byte of each connection's answers held `firstByteDelayMs`.
 */
export interface Throttle {
  sliceBytes: number;
  upSliceBytes?: number;
  pauseMs: number;
  /** Pause between upload slices (default pauseMs). */
  upPauseMs?: number;
  firstByteDelayMs?: number;
}

export interface TcpProxy {
  port: number;
  stall(on: boolean): void;
  throttle(opts: Throttle | null): void;
  /** Bytes forwarded so far in each direction. */
  stats: { up: number; down: number; connections: number };
  stop(): Promise<void>;
}

export async function startTcpProxy(target: { port: number; host?: string }): Promise<TcpProxy> {
  const host = target.host ?? '127.0.0.1';
  const stats = { up: 0, down: 0, connections: 0 };
  let stalled = false;
  let throttling: Throttle | null = null;
  const pairs = new Set<{ client: Socket; upstream: Socket; resume: () => void }>();
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  /** Copies from → to, honouring stall and throttle; returns a nudge for when a stall ends. */
  function forward(from: Socket, to: Socket, direction: 'up' | 'down'): () => void {
    let waiting: (() => void) | undefined;
    let first = true;
    const gate = () => (stalled ? new Promise<void>((resolve) => (waiting = resolve)) : Promise.resolve());
    (async () => {
      try {
        for await (const chunk of from as AsyncIterable<Buffer>) {
          let offset = 0;
          while (offset < chunk.length) {
            await gate();
            if (to.destroyed) return;
            const t = throttling;
            if (t && first && direction === 'down' && t.firstByteDelayMs) await sleep(t.firstByteDelayMs);
            first = false;
            const sliceBytes = t && (direction === 'up' ? (t.upSliceBytes ?? t.sliceBytes) : t.sliceBytes);
            const take = sliceBytes ? Math.min(sliceBytes, chunk.length - offset) : chunk.length - offset;
            const slice = chunk.subarray(offset, offset + take);
            offset += take;
            stats[direction] += slice.length;
            if (!to.write(slice)) await new Promise((r) => to.once('drain', r));
            const pause = t && (direction === 'up' ? (t.upPauseMs ?? t.pauseMs) : t.pauseMs);
            if (pause) await sleep(pause);
          }
        }
        await gate();
        to.end();
      } catch {
        to.destroy();
      }
    })();
    return () => {
      const w = waiting;
      waiting = undefined;
      w?.();
    };
  }

  const server = net.createServer((client) => {
    stats.connections++;
    const upstream = net.connect(target.port, host);
    const resumeUp = forward(client, upstream, 'up');
    const resumeDown = forward(upstream, client, 'down');
    const pair = {
      client,
      upstream,
      resume: () => {
        resumeUp();
        resumeDown();
      },
    };
    pairs.add(pair);
    const close = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    stats,
    stall(on) {
      stalled = on;
      if (!on) for (const p of pairs) p.resume();
    },
    throttle(opts) {
      throttling = opts;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const p of pairs) {
          p.client.destroy();
          p.upstream.destroy();
        }
        server.close(() => resolve());
      }),
  };
}

export interface SilentServer {
  port: number;
  /** Connections accepted so far. */
  accepted: () => number;
  stop(): Promise<void>;
}

export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted++;
    socket.pause();
    socket.on('error', () => {});
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
