/** A real redis-server for tests: its own temp dir, a random TCP port (or a unix socket only), optional password. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/engines/local.js';
import { RedisClient, type RedisTarget } from '../../src/redis/client.js';

export interface TestRedis {
  url: string;
  target: RedisTarget;
  client: RedisClient;
  stop(): Promise<void>;
}

export async function startRedis(options: { password?: string; tcp?: boolean } = {}): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'lms-test-redis-'));
  const socket = join(dir, 'redis.sock');
  const port = options.tcp ? await freePort() : 0;
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--unixsocket',
    socket,
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
  ];
  // The password reaches redis-server on stdin (a config file), never its argv.
  const child: ChildProcess = spawn('redis-server', ['-', ...args], { stdio: ['pipe', 'ignore', 'ignore'] });
  child.stdin!.end(options.password ? `requirepass ${options.password}\n` : '\n');
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = options.tcp ? `redis://127.0.0.1:${port}` : `unix://${socket}`;
  const target: RedisTarget = options.tcp
    ? {
        host: '127.0.0.1',
        port,
        db: 0,
        display: url,
        ...(options.password ? { password: options.password } : {}),
      }
    : { socket, db: 0, display: url, ...(options.password ? { password: options.password } : {}) };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (existsSync(socket)) {
      try {
        const client = await RedisClient.open(target, 2000);
        return {
          url,
          target,
          client,
          stop: async () => {
            client.close();
            child.kill('SIGKILL');
            await exited;
            rmSync(dir, { recursive: true, force: true });
          },
        };
      } catch {}
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
}
