import { randomBytes } from 'node:crypto';
import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  generateAccountSASQueryParameters,
  SASProtocol,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  bufferSource,
  openStorage,
  StorageAuthError,
  StorageConfigError,
  StorageConflictError,
} from '../../src/storage/index.js';
import { AZURITE_ACCOUNT, AZURITE_KEY, type AzuriteEmulator, startAzurite } from '../helpers/emulators.js';
import { runStorageContract, uniquePrefix } from './contract.js';
import { runStorageFaults } from './faults-suite.js';

let azurite: AzuriteEmulator;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

const fastRetry = { baseMs: 5, maxMs: 40 };

async function blobNames(prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const b of azurite.containerClient().listBlobsFlat({ prefix })) names.push(b.name);
  return names;
}

runStorageContract('azure (Azurite)', async (label) => {
  const prefix = uniquePrefix(label);
  const storage = await openStorage(azurite.urlFor(prefix), { env: azurite.env });
  return {
    storage,
    corrupt: async (key) => {
      // Another writer replaces the bytes (same length) behind our interface.
      const blob = azurite.containerClient().getBlockBlobClient(`${prefix}/${key}`);
      const data = await blob.downloadToBuffer();
      data[0] = (data[0] ?? 0) ^ 0x01;
      await blob.uploadData(data);
    },
  };
});

function accountSas(): string {
  return generateAccountSASQueryParameters(
    {
      expiresOn: new Date(Date.now() + 3600_000),
      permissions: AccountSASPermissions.parse('rwdlac'),
      resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
      services: AccountSASServices.parse('b').toString(),
      protocol: SASProtocol.HttpsAndHttp,
    },
    new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY),
  ).toString();
}

describe('azure specifics', () => {
  it('stores the sha256 in blob metadata and commits with If-None-Match', async () => {
    const prefix = uniquePrefix('meta');
    const storage = await openStorage(azurite.urlFor(prefix), { env: azurite.env });
    const source = bufferSource(randomBytes(5 * 1024 * 1024));
    await storage.put('db/a.dump', source);
    const props = await azurite.containerClient().getBlobClient(`${prefix}/db/a.dump`).getProperties();
    expect(props.metadata).toEqual({ sha256: source.sha256 });
    const blocks = await azurite
      .containerClient()
      .getBlockBlobClient(`${prefix}/db/a.dump`)
      .getBlockList('committed');
    expect(blocks.committedBlocks?.length).toBe(2);
  });

  it('concurrent puts of one key: exactly one wins, the others get StorageConflictError', async () => {
    const storage = await openStorage(azurite.urlFor(uniquePrefix('race')), { env: azurite.env });
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => storage.put('db/race.dump', bufferSource(`writer ${i}`))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results)
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(StorageConflictError);
  });

  it('authenticates with a connection string, an env SAS token and a SAS in the URL', async () => {
    const prefix = uniquePrefix('creds');
    const base = `azure://${AZURITE_ACCOUNT}/${azurite.container}/${prefix}`;
    const connectionString = `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${azurite.endpoint};`;
    const viaCs = await openStorage(base, { env: { AZURE_STORAGE_CONNECTION_STRING: connectionString } });
    await viaCs.put('cs', bufferSource('connection string'));
    const sas = accountSas();
    const viaEnvSas = await openStorage(`${base}?endpoint=${azurite.endpoint}`, {
      env: { AZURE_STORAGE_SAS_TOKEN: `?${sas}` },
    });
    await viaEnvSas.put('sas-env', bufferSource('sas env'));
    const viaUrlSas = await openStorage(`${base}?endpoint=${azurite.endpoint}&${sas}`, { env: {} });
    await viaUrlSas.put('sas-url', bufferSource('sas url'));
    expect(viaUrlSas.display).not.toContain('sig=');
    expect(viaUrlSas.display).toBe(`${base}?endpoint=${azurite.endpoint}`);
    expect((await blobNames(`${prefix}/`)).sort()).toEqual([
      `${prefix}/cs`,
      `${prefix}/sas-env`,
      `${prefix}/sas-url`,
    ]);
  });

  it('a wrong key is a StorageAuthError naming the variable to check, never the key', async () => {
    const badKey = Buffer.from('not the right key at all, really').toString('base64');
    const storage = await openStorage(azurite.urlFor(uniquePrefix('badkey')), {
      env: { AZURE_STORAGE_KEY: badKey },
      retry: fastRetry,
    });
    const err = await storage.put('x', bufferSource('x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageAuthError);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as StorageAuthError).hint).toContain('AZURE_STORAGE_KEY');
    expect(`${(err as Error).message} ${(err as StorageAuthError).hint}`).not.toContain(badKey);
    await expect(storage.head('x')).rejects.toBeInstanceOf(StorageAuthError);
  });

  it('no credential at all: DefaultAzureCredential fails as a StorageAuthError listing the options', async () => {
    // The real endpoint is never reached: the credential chain fails first (no network here).
    const storage = await openStorage(`azure://${AZURITE_ACCOUNT}/backups`, {
      env: {},
      retry: false,
      requestAttempts: 1,
    });
    const err = await storage.head('x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageAuthError);
    expect((err as StorageAuthError).hint).toMatch(/AZURE_STORAGE_CONNECTION_STRING.*azure\/login/);
  }, 60_000);

  it('no key or SAS for a plain-http endpoint (Azurite) is a configuration error at open', async () => {
    const err = await openStorage(azurite.url, { env: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageConfigError);
    expect((err as StorageConfigError).hint).toContain('AZURE_STORAGE_KEY');
  });

  it('rejects a connection string for another account, or together with ?endpoint=', async () => {
    const other =
      'DefaultEndpointsProtocol=https;AccountName=otheraccount;AccountKey=a2V5;EndpointSuffix=core.windows.net';
    await expect(
      openStorage(`azure://${AZURITE_ACCOUNT}/backups`, { env: { AZURE_STORAGE_CONNECTION_STRING: other } }),
    ).rejects.toThrow(/otheraccount/);
    await expect(
      openStorage(azurite.url, { env: { AZURE_STORAGE_CONNECTION_STRING: other } }),
    ).rejects.toBeInstanceOf(StorageConfigError);
  });

  it('a missing container is a configuration error with the command to create it', async () => {
    const storage = await openStorage(
      `azure://${AZURITE_ACCOUNT}/no-such-container/x?endpoint=${azurite.endpoint}`,
      {
        env: azurite.env,
      },
    );
    const err = await storage.put('a', bufferSource('a')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageConfigError);
    expect((err as StorageConfigError).hint).toContain(
      'az storage container create --name no-such-container',
    );
  });
});

runStorageFaults('azure (Azurite)', () => ({
  port: azurite.port,
  env: azurite.env,
  urlFor: azurite.urlFor,
  largeSize: 9 * 1024 * 1024,
  // Committed blobs only: uncommitted blocks are not listed, and Azure discards them after a week.
  leftovers: async (prefix) => (await blobNames(`${prefix}/`)).map((n) => n.slice(prefix.length + 1)),
  fresh: async () => {
    const own = await startAzurite();
    return {
      urlFor: (prefix) => own.urlFor(prefix),
      env: own.env,
      kill: own.kill,
      freeze: own.freeze,
      thaw: own.thaw,
      freezeHow: 'Azurite SIGSTOP',
      stop: own.stop,
    };
  },
}));
