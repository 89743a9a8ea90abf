/** Bad files and Redis options, as a user meets them on the CLI: exit 2, the option named, nothing stored. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/pg.js';

const dirs: { remove(): void }[] = [];
const mk = () => {
  const d = tempDir();
  dirs.push(d);
  return d.path;
};
afterAll(() => {
  for (const d of dirs) d.remove();
});

const stored = (dir: string) => (existsSync(join(dir, 'db')) ? readdirSync(join(dir, 'db')) : []);

describe('files and Redis options on the CLI', () => {
  it('a path that does not exist fails before anything is dumped (exit 2)', async () => {
    const to = mk();
    const r = await runCli(['backup', '--to', to, '--no-encryption', '--files', '/nonexistent/lms/.env']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--files: /nonexistent/lms/.env does not exist');
    expect(stored(to)).toEqual([]);
  });

  it('a TLS or malformed Redis URL is refused with what to give instead (exit 2)', async () => {
    const to = mk();
    const tls = await runCli(['backup', '--to', to, '--no-encryption', '--redis-url', 'rediss://cache:6380']);
    expect(tls.code).toBe(2);
    expect(tls.stderr).toMatch(/--redis-url: rediss:\/\/ \(TLS\) is not supported/);
    const bad = await runCli(['backup', '--to', to, '--no-encryption', '--redis-url', 'http://cache']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('is not a redis:// URL');
    expect(stored(to)).toEqual([]);
  });

  it('an unreachable Redis fails the backup before the dump, naming it (exit 1)', async () => {
    const to = mk();
    const r = await runCli(['backup', '--to', to, '--no-encryption', '--redis-url', `unix://${to}/no.sock`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot reach Redis at unix:\/\/.*no\.sock/);
    expect(stored(to).filter((f) => f.endsWith('.manifest.json'))).toEqual([]);
  });

  it('--files-exclude without --files, and --files-path without --files-to, are configuration errors', async () => {
    const to = mk();
    const a = await runCli(['backup', '--to', to, '--no-encryption', '--files-exclude', '*.log']);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('--files-exclude is given without --files');
    const b = await runCli(['restore', '--from', to, '--files-path', '/etc/nginx']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--files-path is given without --files-to');
  });
});
