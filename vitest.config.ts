import { defineConfig } from 'vitest/config';

/**
 * Three projects (`vitest run --project unit|integration|e2e`, or all of them):
 * - unit: in-process, on local files only; seconds.
 * - integration: real PostgreSQL servers, Docker, the storage emulators, the age CLI, Chromium.
 * - e2e: the bundles in dist/ run as users run them (the CLI, the action's steps); dist/ is
 *   rebuilt for this project only.
 */
const E2E = [
  'test/action/dist.test.ts',
  'test/action/e2e.test.ts',
  'test/action/workflows.test.ts',
  'test/commands/alerts.test.ts',
  'test/commands/backup.test.ts',
  'test/commands/check.test.ts',
  'test/commands/compose.test.ts',
  'test/commands/cli.test.ts',
  'test/commands/demo.test.ts',
  'test/commands/drill.test.ts',
  'test/commands/fidelity.test.ts',
  'test/commands/offsite.test.ts',
  'test/commands/outer-zstd.test.ts',
  'test/commands/restore.test.ts',
  'test/erasure/cli.test.ts',
  'test/faults/**/*.test.ts',
  'test/files/cli.test.ts',
  'test/majors/matrix.test.ts',
  'test/options/cli-config.test.ts',
  'test/options/fleet.test.ts',
];
const INTEGRATION = [
  'test/commands/compose-args.test.ts',
  'test/crypto/age-interop.test.ts',
  'test/engines/**/*.test.ts',
  'test/erasure/erasure.test.ts',
  'test/files/parts.test.ts',
  'test/files/tar.test.ts',
  'test/majors/archive-offsets.test.ts',
  'test/majors/tools.test.ts',
  'test/report/html.test.ts',
  'test/report/notify.test.ts',
  'test/storage/azure.test.ts',
  'test/storage/gcs.test.ts',
  'test/storage/s3.test.ts',
];

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    pool: 'forks',
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // Tests start real servers; two cores, so two files at a time.
    maxWorkers: 2,
    minWorkers: 1,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: [...E2E, ...INTEGRATION] },
      },
      { extends: true, test: { name: 'integration', include: INTEGRATION } },
      {
        extends: true,
        test: { name: 'e2e', include: E2E, globalSetup: ['test/global-setup.ts', 'test/build-dist.ts'] },
      },
    ],
  },
});
