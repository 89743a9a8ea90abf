import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createAgeEncryptStream } from '../../src/crypto/age.js';
import { CLI_BUNDLE, pgEnv, runCli, startSourceDb, tempDir } from '../helpers/pg.js';

const dir = tempDir();
afterAll(() => dir.remove());

describe('the CLI surface', () => {
  it('--help lists every command and the exit codes', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['backup', 'drill', 'verify', 'restore', 'list', 'prune', 'report', 'keygen', 'demo']) {
      expect(r.stdout).toMatch(new RegExp(`\\n  ${c}\\b`));
    }
    expect(r.stdout).toMatch(/Exit codes: 0 success, 1 the job ran and failed, 2 bad usage or configuration/);
  });

  it('an unknown option or command is bad usage (exit 2)', async () => {
    expect((await runCli(['backup', '--no-such-flag'])).code).toBe(2);
    expect((await runCli(['frobnicate'])).code).toBe(2);
  });

  it('reports several configuration problems together, once', async () => {
    const r = await runCli(
      [
        'drill',
        '--engine',
        'kubernetes',
        '--min-tables',
        'many',
        '--rto',
        'soon',
        '--before',
        'yesterday-ish',
        '--from',
        'no-such-destination',
      ],
      {},
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/5 configuration problems/);
    for (const m of [
      /--engine must be auto, docker or local/,
      /--min-tables must be a whole number/,
      /--rto "soon"/,
      /--before "yesterday-ish"/,
      /--from \S*no-such-destination does not exist/,
    ]) {
      expect(r.stderr).toMatch(m);
    }
  });

  it('keygen makes a key pair the stock age CLI accepts', async () => {
    const r = await runCli(['--json', 'keygen']);
    expect(r.code).toBe(0);
    const { identity, recipient } = JSON.parse(r.stdout) as { identity: string; recipient: string };
    expect(identity).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]+$/);
    expect(recipient).toMatch(/^age1[0-9a-z]+$/);
    const keyFile = join(dir.path, 'key.txt');
    writeFileSync(keyFile, `${identity}\n`, { mode: 0o600 });
    expect(execFileSync('age-keygen', ['-y', keyFile]).toString().trim()).toBe(recipient);
    // And what we encrypt to it, age decrypts.
    const enc = createAgeEncryptStream({ recipients: [recipient] });
    const chunks: Buffer[] = [];
    enc.on('data', (c: Buffer) => chunks.push(c));
    const done = new Promise((resolve) => enc.on('end', resolve));
    enc.end(Buffer.from('hello, disaster day'));
    await done;
    const out = execFileSync('age', ['-d', '-i', keyFile], { input: Buffer.concat(chunks) }).toString();
    expect(out).toBe('hello, disaster day');
  });
});

describe('progress on a terminal', () => {
  it('shows bytes, the rate and elapsed time on a TTY, ended by a newline, and nothing of it when piped', async () => {
    const src = await startSourceDb(1);
    try {
      const dest = join(dir.path, 'tty');
      // `script` gives the CLI a pseudo-terminal, as an operator's shell would.
      const cmd = `${process.execPath} ${CLI_BUNDLE} backup --to ${dest} --no-encryption`;
      const tty = execFileSync('script', ['-qec', cmd, '/dev/null'], {
        env: { ...process.env, ...pgEnv(src.conn) },
      }).toString();
      // Bytes, the rate in the same units, the time; the line ends before the next one starts.
      expect(tty).toMatch(/dumping {2}[\d.]+ (B|KiB|MiB) {2}[\d.]+ (B|KiB|MiB)\/s {2}[\d.]+ s\r?\n/);
      const piped = await runCli(['backup', '--to', `${dest}-2`, '--no-encryption'], pgEnv(src.conn));
      expect(piped.code).toBe(0);
      expect(piped.stderr).not.toMatch(/dumping {2}/);
    } finally {
      await src.stop();
    }
  });
});
