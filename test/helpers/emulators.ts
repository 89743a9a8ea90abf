/**
 * Real storage emulators on random loopback ports, for tests and benchmarks:
 *   startAzurite()  – Azurite 3.35 (blob only, in memory) in a child process
 *   startS3rver()   – s3rver 3.7.1 in a child process (see storage-s3rver-child.mjs for the
 *                     two admin calls added in front of it and why it needs the legacy OpenSSL provider)
 *   startGcsStandIn() – our GCS JSON API stand-in (test/helpers/gcs-server.ts), in process
 * Each returns `url` (a destination for openStorage), `env` (the credentials openStorage reads),
 * `urlFor(prefix, port?)` for other prefixes or a proxy port in front, and `stop()`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { BlobServiceClient, type ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { type GcsServer, startGcsServer } from './gcs-server.js';

const require = createRequire(import.meta.url);

/** Azurite's well-known development account (public, documented by Microsoft). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
/** s3rver's built-in credentials. */
export const S3RVER_ACCESS_KEY = 'S3RVER';
export const S3RVER_SECRET_KEY = 'S3RVER';

export interface Emulator {
  /** A destination for openStorage, e.g. azure://devstoreaccount1/backups?endpoint=… */
  url: string;
  /** Environment for openStorage({ env }): the emulator's credentials. */
  env: NodeJS.ProcessEnv;
  port: number;
  /** The same destination under another prefix, optionally through another port (a proxy). */
  urlFor(prefix: string, port?: number): string;
  stop(): Promise<void>;
}

export interface AzuriteEmulator extends Emulator {
  container: string;
  endpoint: string;
  /** A plain SDK client on the container, to look behind our interface. */
  containerClient(): ContainerClient;
  /** Kills the Azurite process (its in-memory data is gone). */
  kill(): void;
  /** SIGSTOP / SIGCONT: the process stops answering (its sockets stay open) / goes on. */
  freeze(): void;
  thaw(): void;
}

export interface S3rverEmulator extends Emulator {
  bucket: string;
  endpoint: string;
  directory: string;
  /** A plain SDK client with the same checksum settings as our backend. */
  client(port?: number): S3Client;
  kill(): void;
  freeze(): void;
  thaw(): void;
}

export interface GcsStandIn extends Emulator {
  bucket: string;
  server: GcsServer;
}

async function waitForLine(
  child: ChildProcess,
  pattern: RegExp,
  what: string,
  timeoutMs = 30_000,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${what} did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = pattern.exec(output);
      if (m) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(m);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code} before it was ready:\n${output}`));
    });
  });
}

/** Children still running when the test process exits are killed with it. */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** SIGSTOP / SIGCONT for a child we started (never any other process). */
function freezer(child: ChildProcess): { freeze(): void; thaw(): void } {
  return {
    freeze: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGSTOP');
    },
    thaw: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGCONT');
    },
  };
}

function withPrefix(base: string, prefix: string): string {
  const p = prefix.replace(/^\/+|\/+$/g, '');
  return p ? `${base}/${p}` : base;
}

export async function startAzurite(opts: { container?: string } = {}): Promise<AzuriteEmulator> {
  const container = opts.container ?? 'backups';
  const main = require.resolve('azurite/dist/src/blob/main.js');
  const child = track(
    spawn(
      process.execPath,
      [
        main,
        '--skipApiVersionCheck',
        '--inMemoryPersistence',
        '--disableTelemetry',
        '--silent',
        '--blobHost',
        '127.0.0.1',
        '--blobPort',
        '0',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  const m = await waitForLine(child, /listens on http:\/\/127\.0\.0\.1:(\d+)/, 'Azurite');
  child.stdout?.resume();
  child.stderr?.resume();
  const port = Number(m[1]);
  const endpointFor = (p: number) => `http://127.0.0.1:${p}/${AZURITE_ACCOUNT}`;
  const endpoint = endpointFor(port);
  const containerClient = () =>
    new BlobServiceClient(endpoint, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY), {
      retryOptions: { maxTries: 1 },
    }).getContainerClient(container);
  await containerClient().createIfNotExists();
  const urlFor = (prefix: string, p = port) =>
    `${withPrefix(`azure://${AZURITE_ACCOUNT}/${container}`, prefix)}?endpoint=${endpointFor(p)}`;
  return {
    url: urlFor(''),
    urlFor,
    env: { AZURE_STORAGE_KEY: AZURITE_KEY },
    port,
    container,
    endpoint,
    containerClient,
    kill: () => child.kill('SIGKILL'),
    ...freezer(child),
    stop: () => {
      child.kill('SIGCONT');
      return stopChild(child);
    },
  };
}

export async function startS3rver(
  opts: { bucket?: string; enforceIfNoneMatch?: boolean } = {},
): Promise<S3rverEmulator> {
  const bucket = opts.bucket ?? 'backups';
  const directory = await mkdtemp(join(tmpdir(), 'lms-s3rver-'));
  const script = fileURLToPath(new URL('./storage-s3rver-child.mjs', import.meta.url));
  const child = track(
    spawn(
      process.execPath,
      [
        '--openssl-legacy-provider',
        script,
        JSON.stringify({
          directory,
          buckets: [bucket],
          enforceIfNoneMatch: opts.enforceIfNoneMatch ?? false,
        }),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  let port: number;
  try {
    port = Number((await waitForLine(child, /\{"port":(\d+)\}/, 's3rver'))[1]);
  } catch (err) {
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
  child.stdout?.resume();
  child.stderr?.resume();
  const endpointFor = (p: number) => `http://127.0.0.1:${p}`;
  const urlFor = (prefix: string, p = port) =>
    `${withPrefix(`s3://${bucket}`, prefix)}?region=us-east-1&endpoint=${endpointFor(p)}&forcePathStyle=true`;
  return {
    url: urlFor(''),
    urlFor,
    env: { AWS_ACCESS_KEY_ID: S3RVER_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: S3RVER_SECRET_KEY },
    port,
    bucket,
    endpoint: endpointFor(port),
    directory,
    client: (p = port) =>
      new S3Client({
        region: 'us-east-1',
        endpoint: endpointFor(p),
        forcePathStyle: true,
        credentials: { accessKeyId: S3RVER_ACCESS_KEY, secretAccessKey: S3RVER_SECRET_KEY },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        maxAttempts: 1,
      }),
    kill: () => child.kill('SIGKILL'),
    ...freezer(child),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGCONT');
      await stopChild(child);
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export async function startGcsStandIn(opts: { bucket?: string } = {}): Promise<GcsStandIn> {
  const bucket = opts.bucket ?? 'backups';
  const server = await startGcsServer({ buckets: [bucket] });
  const urlFor = (prefix: string, p = server.port) =>
    `${withPrefix(`gs://${bucket}`, prefix)}?endpoint=http://127.0.0.1:${p}`;
  return {
    url: urlFor(''),
    urlFor,
    env: {},
    port: server.port,
    bucket,
    server,
    stop: () => server.stop(),
  };
}
