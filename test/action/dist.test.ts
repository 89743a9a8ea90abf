/**
 * The bundles as they ship: every chunk of dist/ loads in Node (a SyntaxError in one only shows
 * in the runs that happen to load it: the check command, an Azure destination). That the lazily
 * loaded CommonJS packages (Testcontainers) keep their exports through the split is what the
 * Docker cases of test/majors/matrix.test.ts and test/action/e2e.test.ts run into.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const DIST = join(import.meta.dirname, '..', '..', 'dist');

describe('dist/', () => {
  it('every shared chunk loads', async () => {
    const chunks = readdirSync(join(DIST, 'chunks')).filter((f) => f.endsWith('.js'));
    expect(chunks.length).toBeGreaterThan(5);
    const failed: string[] = [];
    for (const c of chunks) {
      try {
        await import(pathToFileURL(join(DIST, 'chunks', c)).href);
      } catch (error) {
        failed.push(`${c}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    expect(failed).toEqual([]);
  });
});
