/**
 * `npm run bench`: every benchmark, reported as ratios against baselines measured in the same
 * run (the machine is shared and noisy: absolute times only set the scale). Prints Markdown.
 * BENCH_QUICK=1 uses a small database and one run each, to check the harness itself.
 */
import { execFileSync } from 'node:child_process';
import { benchBackup, benchThroughput, startBenchDb } from './backup.js';
import { benchCrypto } from './crypto.js';
import { benchDrill } from './drill.js';
import { benchStorage } from './storage.js';
import { benchZstd } from './zstd.js';

const quick = process.env.BENCH_QUICK === '1';
execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
const sections: string[] = [
  `# lms-backup benchmarks (${new Date().toISOString()}, Node ${process.version})`,
  '',
];
const runs = quick ? 1 : Number(process.env.BENCH_RUNS ?? 3);
// BENCH_MIB sets the main size (default 512); BENCH_SMALL_MIB the second size of the throughput
// table (default a quarter of it); BENCH_4GB=1 adds a 4 GiB database to it (slow: seeding alone
// takes minutes).
const mainMib = quick ? 32 : Number(process.env.BENCH_MIB ?? 512);
const smallMib = quick ? 16 : Number(process.env.BENCH_SMALL_MIB ?? Math.round(mainMib / 4));

sections.push(await benchCrypto({ megabytes: quick ? 32 : 256 }));
const throughput: string[] = [];
const rssBySize: string[] = [];
const small = await startBenchDb(smallMib * 1024 * 1024);
try {
  const t = await benchThroughput(small, runs);
  throughput.push(t.line);
  rssBySize.push(`${smallMib} MiB: ${t.rss.toFixed(0)} MiB`);
} finally {
  await small.server.stop();
}
const db = await startBenchDb(mainMib * 1024 * 1024);
try {
  sections.push(await benchBackup({ runs, db }));
  const t = await benchThroughput(db, runs);
  throughput.push(t.line);
  rssBySize.push(`${mainMib} MiB: ${t.rss.toFixed(0)} MiB`);
  sections.push(await benchZstd({ runs, db }));
  sections.push(await benchDrill({ runs, db }));
} finally {
  await db.server.stop();
}
if (process.env.BENCH_4GB === '1') {
  const big = await startBenchDb(4096 * 1024 * 1024);
  try {
    const t = await benchThroughput(big, 1);
    throughput.push(t.line);
    rssBySize.push(`4096 MiB: ${t.rss.toFixed(0)} MiB`);
  } finally {
    await big.server.stop();
  }
}
sections.push(
  [
    '### Throughput at several sizes (lms-backup default backup)',
    '',
    '| database MiB | table data MiB | median s | MB/s of table data | floor MB/s | vs floor | peak RSS MiB |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...throughput,
    '',
    `- peak RSS by size (target <= 150 MiB at 0.5 GB and 4 GB): ${rssBySize.join('; ')}${process.env.BENCH_4GB === '1' ? '' : ' (4 GB not run: BENCH_4GB=1)'}`,
    '- staging disk: one compressed, encrypted dump (the staged file is the stored object)',
    '',
  ].join('\n'),
);
sections.push(await benchStorage({ megabytes: quick ? 16 : 128 }));
process.stdout.write(`${sections.join('\n')}\n`);
process.exit(0);
