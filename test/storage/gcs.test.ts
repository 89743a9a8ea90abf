import { randomBytes } from 'node:crypto';
import { Storage as GcsClient } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GcsStorage } from '../../src/storage/gcs.js';
import {
  bufferSource,
  openStorage,
  parseStorageLocation,
  StorageConfigError,
  StorageConflictError,
} from '../../src/storage/index.js';
import { readAll } from '../../src/storage/source.js';
import { type GcsStandIn, startGcsStandIn } from '../helpers/emulators.js';
import { type FaultProxy, startFaultProxy } from '../helpers/storage-fault-proxy.js';
import { startTcpProxy } from '../helpers/tcp-fault-proxy.js';
import { runStorageContract, uniquePrefix } from './contract.js';
import { runStorageFaults } from './faults-suite.js';

let gcs: GcsStandIn;
beforeAll(async () => {
  gcs = await startGcsStandIn();
});
afterAll(async () => {
  await gcs?.stop();
});

const _fastRetry = { baseMs: 5, maxMs: 40 };

runStorageContract('gcs (JSON API stand-in, real @google-cloud/storage SDK)', async (label) => {
  const prefix = uniquePrefix(label);
  const storage = await openStorage(gcs.urlFor(prefix), { env: gcs.env });
  return {
    storage,
    corrupt: async (key) => {
      // Bit rot: the bytes change, the recorded md5Hash/crc32c do not.
      gcs.server.corrupt(gcs.bucket, `${prefix}/${key}`, (data) => {
        data[0] = (data[0] ?? 0) ^ 0x01;
        return data;
      });
    },
  };
});

// Against a real bucket, when one is given (never in CI here): LMS_TEST_GCS_URL=gs://bucket/prefix
// with Application Default Credentials available. See docs/storage-gcs-testing.md.
const realGcs = process.env.LMS_TEST_GCS_URL;
if (realGcs) {
  runStorageContract('gcs (real bucket from LMS_TEST_GCS_URL)', async (label) => {
    const location = parseStorageLocation(`${realGcs.replace(/\/+$/, '')}/${uniquePrefix(label)}`);
    if (location.kind !== 'gcs') throw new Error('LMS_TEST_GCS_URL must be a gs:// URL');
    const storage = await openStorage(location);
    const client = new GcsClient(location.endpoint ? { apiEndpoint: location.endpoint } : {});
    return {
      storage,
      corrupt: async (key) => {
        const file = client.bucket(location.bucket).file(`${location.prefix}/${key}`);
        const [data] = await file.download();
        data[0] = (data[0] ?? 0) ^ 0x01;
        await file.save(data, { resumable: false });
      },
    };
  });
}

describe('gcs specifics', () => {
  it('uses a resumable upload in chunks for large objects and confirms by the service MD5 (no read-back)', async () => {
    const prefix = uniquePrefix('resumable');
    const storage = await openStorage(gcs.urlFor(prefix), { env: gcs.env });
    const before = gcs.server.requests.length;
    const data = randomBytes(9 * 1024 * 1024);
    await storage.put('big.bin', bufferSource(data));
    const requests = gcs.server.requests.slice(before);
    expect(requests.filter((r) => /^POST .*uploadType=resumable.*ifGenerationMatch=0/.test(r))).toHaveLength(
      1,
    );
    const puts = requests.filter((r) => r.startsWith('PUT ') && r.includes('upload_id='));
    expect(puts.map((r) => r.slice(-3))).toEqual(['308', '200']);
    expect(requests.some((r) => r.includes('alt=media'))).toBe(false);
    expect(gcs.server.openSessions()).toBe(0);
    expect((await readAll(await storage.get('big.bin'))).equals(data)).toBe(true);
  });

  it('small objects go in one multipart request with ifGenerationMatch=0 and the sha256 in metadata', async () => {
    const prefix = uniquePrefix('multipart');
    const storage = await openStorage(gcs.urlFor(prefix), { env: gcs.env });
    const before = gcs.server.requests.length;
    const source = bufferSource('manifest');
    await storage.put('db/m.json', source);
    const requests = gcs.server.requests.slice(before);
    expect(
      requests.filter((r) => /^POST .*uploadType=multipart.*ifGenerationMatch=0.* -> 200$/.test(r)),
    ).toHaveLength(1);
    expect(gcs.server.buckets.get(gcs.bucket)?.get(`${prefix}/db/m.json`)?.metadata).toEqual({
      sha256: source.sha256,
    });
  });

  it('concurrent puts of one key: exactly one wins; the losers get StorageConflictError (412 from the precondition)', async () => {
    const storage = await openStorage(gcs.urlFor(uniquePrefix('race')), { env: gcs.env });
    const before = gcs.server.requests.length;
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => storage.put('db/race.dump', bufferSource(`writer ${i}`))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results)
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(StorageConflictError);
    // The existence pre-check cannot have caught them all: the precondition did.
    expect(gcs.server.requests.slice(before).some((r) => r.endsWith('-> 412'))).toBe(true);
  });

  it('reads STORAGE_EMULATOR_HOST from the environment when the URL has no endpoint', async () => {
    const prefix = uniquePrefix('emuhost');
    const storage = await openStorage(`gs://${gcs.bucket}/${prefix}`, {
      env: { STORAGE_EMULATOR_HOST: `127.0.0.1:${gcs.port}` },
    });
    await storage.put('x', bufferSource('via env'));
    expect(gcs.server.buckets.get(gcs.bucket)?.has(`${prefix}/x`)).toBe(true);
  });

  it('a missing bucket is a configuration error naming the bucket', async () => {
    const storage = await openStorage(`gs://no-such-bucket/x?endpoint=${gcs.server.endpoint}`, { env: {} });
    const err = await storage.put('a', bufferSource('a')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageConfigError);
    expect(String(err)).toContain('no-such-bucket');
  });

  it('the stand-in answers like GCS where the SDK depends on it (412, 404 body, x-goog-hash validation)', async () => {
    const client = new GcsClient({ apiEndpoint: gcs.server.endpoint, retryOptions: { autoRetry: false } });
    const file = client.bucket(gcs.bucket).file(`${uniquePrefix('selftest')}/f`);
    await file.save('one', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });
    const again = await file
      .save('two', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } })
      .catch((e: unknown) => e);
    expect((again as { code?: number }).code).toBe(412);
    const missing = await client
      .bucket(gcs.bucket)
      .file('nope')
      .getMetadata()
      .catch((e: unknown) => e);
    expect((missing as { code?: number }).code).toBe(404);
    // The SDK's own CRC32C check on download trusts the stand-in's x-goog-hash: bit rot shows.
    gcs.server.corrupt(gcs.bucket, file.name, (d) => Buffer.from(d.toString().toUpperCase()));
    const download = await file.download({ validation: 'crc32c' }).catch((e: unknown) => e);
    expect(String(download)).toMatch(/did not match|mismatch/i);
  });
});

runStorageFaults('gcs (JSON API stand-in)', () => ({
  port: gcs.port,
  env: gcs.env,
  urlFor: gcs.urlFor,
  largeSize: 10 * 1024 * 1024,
  leftovers: async (prefix) => [
    ...[...(gcs.server.buckets.get(gcs.bucket)?.keys() ?? [])]
      .filter((n) => n.startsWith(`${prefix}/`))
      .map((n) => n.slice(prefix.length + 1)),
  ],
  fresh: async () => {
    // The stand-in runs in this process: a proxy in front of it stops forwarding instead of SIGSTOP.
    const own = await startGcsStandIn();
    const front = await startTcpProxy({ port: own.port });
    return {
      urlFor: (prefix) => own.urlFor(prefix, front.port),
      env: own.env,
      kill: () => {
        void front.stop();
      },
      freeze: () => front.stall(true),
      thaw: () => front.stall(false),
      freezeHow: 'GCS stand-in stalled',
      stop: async () => {
        await front.stop();
        await own.stop();
      },
    };
  },
}));

describe('gcs faults (through a loopback proxy)', () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy({ port: gcs.port });
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  it('the raw backend (no retry wrapper) reports the cut as a transient StorageRequestError', async () => {
    const location = parseStorageLocation(gcs.urlFor(uniquePrefix('raw'), proxy.port));
    if (location.kind !== 'gcs') throw new Error('not gcs');
    const storage = new GcsStorage({ location, display: 'gs://raw', env: {}, requestAttempts: 1 });
    proxy.cutUploadsOver(1024 * 1024, 1);
    const err = await storage.put('x', bufferSource(randomBytes(2 * 1024 * 1024))).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'StorageRequestError', transient: true });
  });
});
