/**
 * Upload throughput of our Storage.put against a plain SDK upload of the same file, on
 * Azurite and s3rver, in the same run: median of 3 alternating runs (the order flips every
 * run). Ours includes what the plain upload skips: the create-only checks and the
 * confirmation of the stored bytes (Azure: read-back SHA-256 above one block; S3: ETag = MD5,
 * else read-back). Loopback emulators measure our overhead, not a cloud's bandwidth.
 * Reports only; no pass/fail. Run alone with `npx tsx bench/storage.ts [megabytes]`.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Upload } from '@aws-sdk/lib-storage';
import { fileSource, openStorage } from '../src/storage/index.js';
import { startAzurite, startS3rver } from '../test/helpers/emulators.js';

const MIB = 1024 * 1024;
const RUNS = 3;

interface Row {
  target: string;
  ours: number[];
  plain: number[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export async function benchStorage(opts: { megabytes?: number } = {}): Promise<string> {
  const megabytes = opts.megabytes ?? 64;
  const bytes = megabytes * MIB;
  const dir = await mkdtemp(join(tmpdir(), 'lms-bench-storage-'));
  const file = join(dir, 'payload.bin');
  await writeFile(file, randomBytes(bytes));
  const source = await fileSource(file);
  const [azurite, s3] = await Promise.all([startAzurite(), startS3rver()]);
  const rows: Row[] = [];
  try {
    const az = await openStorage(azurite.urlFor('bench'), { env: azurite.env });
    const azContainer = azurite.containerClient();
    const azRow: Row = { target: 'Azure Blob (Azurite 3.35, 4 MiB blocks × 4)', ours: [], plain: [] };
    const s3Storage = await openStorage(s3.urlFor('bench'), { env: s3.env });
    const s3Client = s3.client();
    const s3Row: Row = { target: 'S3 (s3rver 3.7.1, 8 MiB parts × 4)', ours: [], plain: [] };

    for (let run = 0; run < RUNS; run++) {
      const pairs: [Row, () => Promise<unknown>, () => Promise<unknown>][] = [
        [
          azRow,
          () => az.put(`ours-${run}`, source),
          () =>
            azContainer
              .getBlockBlobClient(`bench/plain-${run}`)
              .uploadStream(createReadStream(file), 4 * MIB, 4),
        ],
        [
          s3Row,
          () => s3Storage.put(`ours-${run}`, source),
          () =>
            new Upload({
              client: s3Client,
              params: {
                Bucket: s3.bucket,
                Key: `bench/plain-${run}`,
                Body: createReadStream(file),
                ContentLength: bytes,
              },
              partSize: 8 * MIB,
              queueSize: 4,
            }).done(),
        ],
      ];
      for (const [row, ours, plain] of pairs) {
        if (run % 2 === 0) {
          row.ours.push(await timed(ours));
          row.plain.push(await timed(plain));
        } else {
          row.plain.push(await timed(plain));
          row.ours.push(await timed(ours));
        }
      }
    }
    rows.push(azRow, s3Row);
    s3Client.destroy();
  } finally {
    await Promise.all([azurite.stop(), s3.stop()]);
    await rm(dir, { recursive: true, force: true });
  }

  const mbps = (seconds: number) => bytes / 1e6 / seconds;
  const table = rows.map((r) => {
    const ours = mbps(median(r.ours));
    const plain = mbps(median(r.plain));
    return `| ${r.target} | ${ours.toFixed(0)} | ${plain.toFixed(0)} | ${(ours / plain).toFixed(2)}× |`;
  });
  return [
    '## Storage upload throughput',
    '',
    `${megabytes} MiB file, median of ${RUNS} alternating runs, one process, Node ${process.version}, emulators on loopback.`,
    'MB/s = 10^6 bytes per second. "ours" = `Storage.put` (create-only check + upload + confirmation of size and SHA-256);',
    '"plain SDK" = the same upload with the SDK alone, nothing confirmed. No GCS row: the only GCS target here is our own stand-in.',
    '',
    '| target | ours MB/s | plain SDK MB/s | ours / plain |',
    '| --- | ---: | ---: | ---: |',
    ...table,
    '',
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const megabytes = process.argv[2] ? Number(process.argv[2]) : undefined;
  process.stdout.write(`${await benchStorage(megabytes === undefined ? {} : { megabytes })}\n`);
  process.exit(0);
}
