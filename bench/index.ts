/**
 * `npm run bench`: every benchmark, reported as ratios against baselines measured in the same
 * run (the machine is shared and noisy: absolute times only set the scale). Prints Markdown.
 * BENCH_QUICK=1 uses a small database and one run each, to check the harness itself.
 */
import { execFileSync } from 'node:child_process';
import { benchBackup, startBenchDb } from './backup.js';
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
const runs = quick ? 1 : 3;

sections.push(await benchCrypto({ megabytes: quick ? 32 : 256 }));
const db = await startBenchDb(quick ? 32 * 1024 * 1024 : 512 * 1024 * 1024);
try {
  sections.push(await benchBackup({ runs, db }));
  sections.push(await benchZstd({ runs, db }));
  sections.push(await benchDrill({ runs, db }));
} finally {
  await db.server.stop();
}
sections.push(await benchStorage({ megabytes: quick ? 16 : 128 }));
process.stdout.write(`${sections.join('\n')}\n`);
process.exit(0);
