import { execFileSync } from 'node:child_process';

/** The e2e project runs the CLI and the action as users do: from the bundles in dist/, built fresh here. */
export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
}
