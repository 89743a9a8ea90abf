/**
 * Fault matrix: processes killed, interrupted or starved mid-run (kill -9 at each phase,
 * SIGTERM, a reader that closes stdout, the database stopped mid-dump, a drill killed with its
 * server running), secrets sampled from every process's argv, and a bug surfacing as an error.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainError } from '../../src/crash.js';
import { CLI_BUNDLE, pgEnv, runCli, type SourceDb, startSourceDb } from '../helpers/pg.js';
import { backupTo, keys, noStack, removeScratch, runRecords, scratch, states } from './helpers.js';

let src: SourceDb;

beforeAll(async () => {
  src = await startSourceDb(1);
});
afterAll(async () => {
  await src?.stop();
  removeScratch();
});

function start(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, [CLI_BUNDLE, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  return { child, output: () => out };
}

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A pg_dump that writes the start of a real dump, then stalls: a run caught mid-dump. */
function stallingPgDump(seconds = 60): string {
  const bin = scratch('lms-fault-bin-');
  writeFileSync(
    join(bin, 'pg_dump'),
    `#!/bin/sh\nif [ "$1" = "--version" ]; then exec /usr/bin/pg_dump --version; fi\n` +
      `/usr/bin/pg_dump "$@" | { head -c 2000; sleep ${seconds}; cat; }\n`,
  );
  chmodSync(join(bin, 'pg_dump'), 0o755);
  return bin;
}

const staged = (dir: string) =>
  existsSync(join(dir, 'db')) && readdirSync(join(dir, 'db')).some((f) => f.startsWith('.tmp-'));

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = tcpConnect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

describe('fault matrix: killed and interrupted runs', () => {
  it('kill -9 during the dump → no manifest: nothing listed complete (or damaged)', async () => {
    const dir = scratch();
    const { child } = start(['backup', '--to', dir, '--no-encryption'], {
      ...pgEnv(src.conn),
      PG_BINDIR: stallingPgDump(),
    });
    const gone = exited(child);
    await until('the staged dump', () => staged(dir));
    child.kill('SIGKILL');
    await gone;
    expect(await states(dir)).toEqual({});
    expect(readdirSync(join(dir, 'db')).filter((f) => f.endsWith('.manifest.json'))).toEqual([]);
  });

  it('kill -9 while the objects and the manifest are stored → the backup is complete and verifies, or incomplete; never damaged', async () => {
    const dir = scratch();
    const { child } = start(['backup', '--to', dir], {
      ...pgEnv(src.conn),
      LMS_BACKUP_RECIPIENTS: keys.recipient,
    });
    const gone = exited(child);
    await until(
      'the stored dump',
      () =>
        existsSync(join(dir, 'db')) &&
        readdirSync(join(dir, 'db')).some((f) => /^lms_.*\.dump\.age$/.test(f)),
    );
    child.kill('SIGKILL');
    await gone;
    const s = Object.values(await states(dir));
    expect(s.filter((x) => x === 'damaged')).toEqual([]);
    if (s.includes('complete')) {
      const v = await runCli(['verify', '--from', dir], { LMS_BACKUP_IDENTITY: keys.identity });
      expect(v.code, v.stdout).toBe(0);
    }
  });

  it('SIGTERM during a backup → exit 143, a failure record "interrupted by SIGTERM", no manifest', async () => {
    const dir = scratch();
    const { child } = start(['backup', '--to', dir, '--no-encryption'], {
      ...pgEnv(src.conn),
      PG_BINDIR: stallingPgDump(),
    });
    const gone = exited(child);
    await until('the staged dump', () => staged(dir));
    child.kill('SIGTERM');
    expect((await gone).code).toBe(143);
    expect(await states(dir)).toEqual({});
    expect(runRecords(dir).map((r) => [r.command, r.status, r.reason])).toEqual([
      ['backup', 'failure', 'interrupted by SIGTERM'],
    ]);
    expect(staged(dir)).toBe(false);
  });

  it('stdout closed by the reader (backup | head -1) → the backup completes and leaves its success record', async () => {
    const dir = scratch();
    const child = spawn(process.execPath, [CLI_BUNDLE, 'backup', '--to', dir, '--no-encryption'], {
      env: { ...process.env, ...pgEnv(src.conn) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy(); // the reader is gone before the first line
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const { code } = await exited(child);
    expect(code, stderr).toBe(0);
    expect(noStack(stderr)).toBe(true);
    expect(Object.values(await states(dir))).toEqual(['complete']);
    expect(runRecords(dir).map((r) => [r.command, r.status])).toEqual([['backup', 'success']]);
  });

  it('the database stopped mid-dump → exit 1, no manifest, a failure record naming the cause', async () => {
    const own = await startSourceDb(1);
    const dir = scratch();
    try {
      const { child, output } = start(['backup', '--to', dir, '--no-encryption'], {
        ...pgEnv(own.conn),
        PG_BINDIR: stallingPgDump(3),
      });
      const gone = exited(child);
      await until('the staged dump', () => staged(dir));
      await own.stop();
      const { code } = await gone;
      expect(code, output()).toBe(1);
      expect(noStack(output())).toBe(true);
      expect(await states(dir)).toEqual({});
      const records = runRecords(dir);
      expect(records.map((r) => [r.command, r.status])).toEqual([['backup', 'failure']]);
      expect(records[0]!.reason).toMatch(/\S/);
    } finally {
      await own.stop();
    }
  });

  it('a SIGKILLed drill leaves its PostgreSQL running → the next drill stops it and removes its directories', async () => {
    const dir = scratch();
    await backupTo(src, dir);
    const tmp = scratch('lms-fault-tmp-');
    const env = { TMPDIR: tmp, LMS_BACKUP_IDENTITY: keys.identity };
    const { child, output } = start(['drill', '--from', dir, '--engine', 'local', '--rpo', '1000d'], env);
    const gone = exited(child);
    let port = 0;
    await until('the throwaway server', () => {
      const m = /throwaway PostgreSQL \S+ on 127\.0\.0\.1:(\d+)/.exec(output());
      if (m) port = Number(m[1]);
      return port > 0;
    });
    child.kill('SIGKILL');
    await gone;
    expect(await portOpen(port)).toBe(true);
    const left = readdirSync(tmp).filter((f) => f.startsWith('lms-'));
    expect(left.some((f) => f.startsWith('lms-pg-'))).toBe(true);

    const next = await runCli(['drill', '--from', dir, '--engine', 'local', '--rpo', '1000d'], env);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/left running/);
    expect(await portOpen(port)).toBe(false);
    for (const f of left) expect(existsSync(join(tmp, f)), f).toBe(false);
  });

  it("secrets sampled from every process's argv during backup, drill and restore → no password or identity in any", async () => {
    const dir = scratch();
    const seen = new Set<string>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
          try {
            seen.add(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' '));
          } catch {
            // gone
          }
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const env = {
      ...pgEnv(src.conn),
      LMS_BACKUP_RECIPIENTS: keys.recipient,
      LMS_BACKUP_IDENTITY: keys.identity,
    };
    try {
      expect((await runCli(['backup', '--to', dir], env)).code).toBe(0);
      expect((await runCli(['drill', '--from', dir, '--engine', 'local'], env)).code).toBe(0);
      const target = { ...env, PGDATABASE: 'fault_argv_restore' };
      const r = await runCli(['restore', '--from', dir, '--min-tables', '1'], target);
      expect(r.code, r.stderr).toBe(0);
    } finally {
      sampling = false;
      await sampler;
    }
    const all = [...seen].join('\n');
    expect(all).toMatch(/pg_dump|pg_restore/);
    expect(all).not.toContain(src.conn.password!);
    expect(all).not.toContain(keys.identity);
    expect(all).not.toContain(keys.identity.slice(0, 30));
  });

  it('a bug (an unexpected TypeError) → "internal error: <message>" with a log file holding the stack; no stack printed; exit 1', () => {
    const state = scratch();
    const bug = new TypeError("Cannot read properties of undefined (reading 'x')");
    const e = explainError(bug, 'lms-backup backup', { LMS_BACKUP_STATE_DIR: state });
    expect(e.exitCode).toBe(1);
    expect(e.internal).toBe(true);
    expect(e.message).toMatch(/^internal error: Cannot read properties of undefined/);
    expect(noStack(e.message)).toBe(true);
    expect(e.logPath).toBeDefined();
    expect(e.message).toContain(e.logPath!);
    expect(readFileSync(e.logPath!, 'utf8')).toContain(bug.stack!.split('\n')[1]!.trim());
  });
});
