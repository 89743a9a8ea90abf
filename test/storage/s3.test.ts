import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { MemoryLogger } from '../../src/log.js';
import {
  bufferSource,
  openStorage,
  parseStorageLocation,
  StorageAuthError,
  StorageConfigError,
  StorageConflictError,
  StorageIntegrityError,
} from '../../src/storage/index.js';
import { S3Storage } from '../../src/storage/s3.js';
import { readAll } from '../../src/storage/source.js';
import { type S3rverEmulator, startS3rver } from '../helpers/emulators.js';
import { runStorageContract, uniquePrefix } from './contract.js';
import { runStorageFaults } from './faults-suite.js';

let s3: S3rverEmulator;
let raw: S3Client;
beforeAll(async () => {
  s3 = await startS3rver();
  raw = s3.client();
});
afterAll(async () => {
  raw?.destroy();
  await s3?.stop();
});

const fastRetry = { baseMs: 5, maxMs: 40 };

async function objectKeys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const res = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (res.Contents ?? []).map((o) => o.Key!.slice(prefix.length));
}

async function pendingUploads(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const res = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return (res.Uploads ?? []).map((u) => `${u.Key}#${u.UploadId}`);
}

/** Our backend, unwrapped, so a test can add SDK middleware to its client. */
function rawBackend(url: string, env: NodeJS.ProcessEnv, logger = new MemoryLogger()): S3Storage {
  const location = parseStorageLocation(url);
  if (location.kind !== 's3') throw new Error('not s3');
  return new S3Storage({ location, display: url, env, logger });
}

/** Lets a test change a request's body after our code hashed it (a store that mangles bytes). */
function mangleBodies(storage: S3Storage, commands: string[]): void {
  storage.client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Body?: unknown };
      if (
        commands.includes(context.commandName ?? '') &&
        Buffer.isBuffer(input.Body) &&
        input.Body.length > 0
      ) {
        const body = Buffer.from(input.Body);
        body[0] = (body[0] ?? 0) ^ 0xff;
        input.Body = body;
      }
      return next(args);
    },
    { step: 'initialize', name: 'mangleBodies' },
  );
}

runStorageContract('s3 (s3rver)', async (label) => {
  const prefix = uniquePrefix(label);
  const storage = await openStorage(s3.urlFor(prefix), { env: s3.env });
  return {
    storage,
    corrupt: async (key) => {
      const Key = `${prefix}/${key}`;
      const got = await raw.send(new GetObjectCommand({ Bucket: s3.bucket, Key }));
      const data = Buffer.from(await got.Body!.transformToByteArray());
      data[0] = (data[0] ?? 0) ^ 0x01;
      await raw.send(new PutObjectCommand({ Bucket: s3.bucket, Key, Body: data }));
    },
  };
});

describe('s3 specifics', () => {
  it('s3rver ignores If-None-Match on PutObject (it overwrites): our HEAD pre-check is what refuses', async () => {
    const Key = `${uniquePrefix('inm')}/x`;
    await raw.send(new PutObjectCommand({ Bucket: s3.bucket, Key, Body: 'first', IfNoneMatch: '*' }));
    await raw.send(new PutObjectCommand({ Bucket: s3.bucket, Key, Body: 'second', IfNoneMatch: '*' }));
    const got = await raw.send(new GetObjectCommand({ Bucket: s3.bucket, Key }));
    expect(await got.Body!.transformToString()).toBe('second');
  });

  it('the chunk-framing trap: default SDK checksums + a streamed PutObject store framing in s3rver', async () => {
    // Why our client uses requestChecksumCalculation: WHEN_REQUIRED (docs: ENVIRONMENT.md).
    const defaults = new S3Client({
      region: 'us-east-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    const Key = `${uniquePrefix('framing')}/x`;
    const data = Buffer.from('exact bytes please');
    await defaults.send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key,
        Body: Readable.from([data]),
        ContentLength: data.length,
      }),
    );
    const stored = Buffer.from(
      await (await raw.send(new GetObjectCommand({ Bucket: s3.bucket, Key }))).Body!.transformToByteArray(),
    );
    expect(stored.equals(data)).toBe(false);
    defaults.destroy();
    // Ours, same bytes, same store: exact.
    const storage = await openStorage(s3.urlFor(uniquePrefix('framing-ours')), { env: s3.env });
    await storage.put('x', { ...bufferSource(data), open: () => Readable.from([data]) });
    expect((await readAll(await storage.get('x'))).equals(data)).toBe(true);
  });

  it('where the store enforces If-None-Match, a writer that wins the race after our check gives a conflict (single and multipart)', async () => {
    const strict = await startS3rver({ enforceIfNoneMatch: true });
    const client = strict.client();
    try {
      const storage = rawBackend(strict.urlFor('race'), strict.env);
      // Another writer creates the key between our HEAD and our PUT / CompleteMultipartUpload.
      storage.client.middlewareStack.add(
        (next, context) => async (args) => {
          if (
            context.commandName === 'PutObjectCommand' ||
            context.commandName === 'CompleteMultipartUploadCommand'
          ) {
            const Key = (args.input as { Key: string }).Key;
            await client.send(new PutObjectCommand({ Bucket: strict.bucket, Key, Body: 'the other writer' }));
          }
          return next(args);
        },
        { step: 'initialize', name: 'otherWriter' },
      );
      await expect(storage.put('small', bufferSource('ours'))).rejects.toBeInstanceOf(StorageConflictError);
      await expect(storage.put('big', bufferSource(randomBytes(9 * 1024 * 1024)))).rejects.toBeInstanceOf(
        StorageConflictError,
      );
      for (const key of ['race/small', 'race/big']) {
        const got = await client.send(new GetObjectCommand({ Bucket: strict.bucket, Key: key }));
        expect(await got.Body!.transformToString()).toBe('the other writer');
      }
      expect(await pendingUploads(client, strict.bucket, 'race/')).toEqual([]);
    } finally {
      client.destroy();
      await strict.stop();
    }
  });

  it('a store that keeps other bytes than it was sent is caught (ETag ≠ MD5 → read-back → integrity error), nothing kept', async () => {
    const prefix = uniquePrefix('mangle');
    const storage = rawBackend(s3.urlFor(prefix), s3.env);
    mangleBodies(storage, ['PutObjectCommand', 'UploadPartCommand']);
    const small = await storage.put('small', bufferSource('small object')).catch((e: unknown) => e);
    expect(small).toBeInstanceOf(StorageIntegrityError);
    const big = await storage.put('big', bufferSource(randomBytes(9 * 1024 * 1024))).catch((e: unknown) => e);
    expect(big).toBeInstanceOf(StorageIntegrityError);
    expect(await storage.head('small')).toBeNull();
    expect(await storage.head('big')).toBeNull();
  });

  it('confirms without a download when the ETag is the MD5 (single part and multipart)', async () => {
    const storage = rawBackend(s3.urlFor(uniquePrefix('etag')), s3.env);
    const commands: string[] = [];
    storage.client.middlewareStack.add(
      (next, context) => async (args) => {
        commands.push(context.commandName ?? '?');
        return next(args);
      },
      { step: 'initialize', name: 'record' },
    );
    await storage.put('small', bufferSource('x'.repeat(1000)));
    await storage.put('big', bufferSource(randomBytes(9 * 1024 * 1024)));
    expect(commands).not.toContain('GetObjectCommand');
    expect(commands).toContain('CompleteMultipartUploadCommand');
  });

  it('an unknown access key is a StorageAuthError naming the variables; a missing bucket a config error', async () => {
    const storage = await openStorage(s3.urlFor(uniquePrefix('auth')), {
      env: { AWS_ACCESS_KEY_ID: 'WRONGKEY', AWS_SECRET_ACCESS_KEY: 'topsecretvalue' },
      retry: fastRetry,
    });
    const err = await storage.put('x', bufferSource('x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageAuthError);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as StorageAuthError).hint).toContain('AWS_ACCESS_KEY_ID');
    expect(`${(err as Error).message}${(err as StorageAuthError).hint}`).not.toContain('topsecretvalue');
    const nobucket = await openStorage(`s3://no-such-bucket/x?endpoint=${s3.endpoint}&forcePathStyle=true`, {
      env: s3.env,
    });
    const err2 = await nobucket.get('x').catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(StorageConfigError);
    expect((err2 as StorageConfigError).hint).toContain('aws s3 mb s3://no-such-bucket');
  });

  it('takes the endpoint and region from AWS_ENDPOINT_URL_S3 / AWS_REGION when the URL has none', async () => {
    const prefix = uniquePrefix('envendpoint');
    const storage = await openStorage(`s3://${s3.bucket}/${prefix}?forcePathStyle=true`, {
      env: { ...s3.env, AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_REGION: 'eu-west-1' },
    });
    await storage.put('x', bufferSource('via env'));
    const got = await raw.send(new GetObjectCommand({ Bucket: s3.bucket, Key: `${prefix}/x` }));
    expect(await got.Body!.transformToString()).toBe('via env');
  });

  it('sweepIncomplete finds the multipart uploads a killed writer left, older than asked; dry run keeps them', async () => {
    const prefix = uniquePrefix('sweep');
    const Key = `${prefix}/db/lms_1.dump.age`;
    const { UploadId } = await raw.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key }));
    const storage = await openStorage(s3.urlFor(prefix), { env: s3.env });
    expect((await storage.sweepIncomplete!(new Date(Date.now() - 86400_000), false)).found).toEqual([]);
    const dry = await storage.sweepIncomplete!(new Date(Date.now() + 60_000), true);
    expect(dry.found.map((f) => f.key)).toEqual(['db/lms_1.dump.age']);
    expect(dry.removed).toBe(0);
    expect(await pendingUploads(raw, s3.bucket, `${prefix}/`)).toEqual([`${Key}#${UploadId}`]);
    const real = await storage.sweepIncomplete!(new Date(Date.now() + 60_000), false);
    expect(real.removed).toBe(1);
    expect(await pendingUploads(raw, s3.bucket, `${prefix}/`)).toEqual([]);
  });

  it('the s3rver shim lists and aborts multipart uploads like S3', async () => {
    const Key = `${uniquePrefix('shim')}/x`;
    const { UploadId } = await raw.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key }));
    expect(await pendingUploads(raw, s3.bucket, Key)).toEqual([`${Key}#${UploadId}`]);
    const storage = rawBackend(s3.url, s3.env);
    // Our abort path, through the SDK, on an upload we did not start: gone afterwards.
    await (storage as unknown as { abortUpload(u: unknown, k: string): Promise<void> }).abortUpload(
      { uploadId: UploadId },
      Key,
    );
    expect(await pendingUploads(raw, s3.bucket, Key)).toEqual([]);
  });
});

runStorageFaults('s3 (s3rver)', () => ({
  port: s3.port,
  env: s3.env,
  urlFor: s3.urlFor,
  largeSize: 20 * 1024 * 1024,
  leftovers: async (prefix) => [
    ...(await objectKeys(raw, s3.bucket, `${prefix}/`)),
    ...(await pendingUploads(raw, s3.bucket, `${prefix}/`)),
  ],
  fresh: async () => {
    const own = await startS3rver();
    return {
      urlFor: (prefix) => own.urlFor(prefix),
      env: own.env,
      kill: own.kill,
      freeze: own.freeze,
      thaw: own.thaw,
      freezeHow: 's3rver SIGSTOP',
      stop: own.stop,
    };
  },
}));
