import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script, no types
import { HTTP_EXPORTS, LAZY_UNDICI } from '../../scripts/required-http.mjs';

const root = join(import.meta.dirname, '..', '..');

describe("the bundles' node:http (scripts/required-http.mjs)", () => {
  it("names every export of this Node's node:http but the ones that load undici", () => {
    const http = createRequire(import.meta.url)('node:http') as object;
    const names = Object.keys(Object.getOwnPropertyDescriptors(http));
    expect(names.filter((n) => !LAZY_UNDICI.includes(n) && !HTTP_EXPORTS.includes(n))).toEqual([]);
  });

  it('a CLI run and an action step start without loading undici', () => {
    // Reports at exit whether Node's bundled undici was loaded.
    const probe = `data:text/javascript,process.on('exit',()=>process.stderr.write('undici:'+process.moduleLoadList.some((m)=>m.includes('undici'))))`;
    const run = (entry: string, args: string[]) => {
      try {
        execFileSync(process.execPath, ['--import', probe, entry, ...args], {
          encoding: 'utf8',
          stdio: ['ignore', 'ignore', 'pipe'],
          env: { ...process.env, INPUT_DESTINATIONS: join(root, 'no-such-dir') },
        });
        return 'exited 0';
      } catch (error) {
        return String((error as { stderr?: string }).stderr);
      }
    };
    expect(run(join(root, 'dist', 'cli', 'index.js'), ['list', '--from', join(root, 'no-such-dir')])).toMatch(
      /undici:false/,
    );
    expect(run(join(root, 'dist', 'prune', 'index.js'), [])).toMatch(/undici:false/);
  });
});
