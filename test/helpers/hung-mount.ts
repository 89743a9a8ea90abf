/**
 * Directories whose file system stops answering, as a stopped NFS server or a dead FUSE daemon
 * leaves them. Real kernel behaviour, not a fake: needs root (CAP_SYS_ADMIN) and /dev/fuse, as
 * on this machine kind and on GitHub-hosted runners (sudo).
 *
 * - startHungMount: a FUSE mount whose connection this process opens and never serves: every
 *   call into it (stat, open, mkdir, …) waits from the start. stop() closes the connection
 *   (every waiting call then fails with ENOTCONN, freeing stuck threads in any process) and
 *   unmounts it.
 * - startFreezableMount: a working mount (bindfs over a plain directory) that freeze() stops
 *   answering at a moment the test picks (SIGSTOP to its daemon), mid-write as in the field;
 *   thaw() lets the waiting calls go on. The test looks at what was written through the
 *   backing directory, never through the mount while it is frozen.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import type { CliRun, StartedCli } from './pg.js';

export interface HungMount {
  /** The mount point: anything under it hangs. */
  path: string;
  stop(): void;
}

/** Why a hung mount cannot be made here, or undefined when it can. */
export function hungMountUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'a FUSE mount needs root';
  if (!existsSync('/dev/fuse')) return 'no /dev/fuse';
  if (spawnSync('bindfs', ['--version'], { stdio: 'ignore' }).error)
    return 'bindfs is not installed (scripts/setup.sh installs it)';
  return undefined;
}

export function startHungMount(path: string): HungMount {
  mkdirSync(path, { recursive: true });
  const fd = openSync('/dev/fuse', 'r+');
  // -i: no mount.fuse helper; the kernel takes the connection's fd. Nobody reads it, so the
  // kernel's INIT request, and every request after it, waits for an answer.
  const r = spawnSync(
    'mount',
    ['-i', '-t', 'fuse.lmshang', '-o', 'fd=3,rootmode=40000,user_id=0,group_id=0', 'lmshang', path],
    { stdio: ['ignore', 'pipe', 'pipe', fd], encoding: 'utf8' },
  );
  if (r.status !== 0) {
    closeSync(fd);
    throw new Error(`mounting a hung FUSE file system at ${path} failed: ${r.stderr || r.error}`);
  }
  let stopped = false;
  return {
    path,
    stop() {
      if (stopped) return;
      stopped = true;
      closeSync(fd);
      spawnSync('umount', ['-l', path], { stdio: 'ignore' });
    },
  };
}

export interface FreezableMount {
  /** The mount point (bindfs of `backing`). */
  path: string;
  backing: string;
  freeze(): void;
  thaw(): void;
  stop(): Promise<void>;
}

function mounted(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4] === path);
}

export async function startFreezableMount(backing: string, path: string): Promise<FreezableMount> {
  mkdirSync(backing, { recursive: true });
  mkdirSync(path, { recursive: true });
  // -f: the daemon stays this child, so its pid is the one to stop.
  const daemon = spawn('bindfs', ['-f', backing, path], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  daemon.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
  for (let i = 0; !mounted(path); i++) {
    if (daemon.exitCode !== null || i > 100) {
      daemon.kill('SIGKILL');
      throw new Error(`bindfs ${backing} ${path} did not mount: ${stderr || 'no message'}`);
    }
    await sleep(50);
  }
  let stopped = false;
  return {
    path,
    backing,
    freeze: () => daemon.kill('SIGSTOP'),
    thaw: () => daemon.kill('SIGCONT'),
    async stop() {
      if (stopped) return;
      stopped = true;
      daemon.kill('SIGCONT');
      spawnSync('umount', [path], { stdio: 'ignore' });
      if (mounted(path)) spawnSync('umount', ['-l', path], { stdio: 'ignore' });
      daemon.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * The CLI ended after a call stuck in a hung mount: with `code` where Node can replace the
 * process (process.execve, Node 22.15 and newer), else killed by SIGKILL (exit status 137).
 */
export function expectEndedDespiteStuckCall(r: CliRun, code: number): void {
  if (typeof (process as { execve?: unknown }).execve === 'function') expect(r.code, r.stderr).toBe(code);
  else expect(r.signal, r.stderr).toBe('SIGKILL');
}

/** Where each thread of `pid` and of its children waits in the kernel (root reads the stacks). */
function kernelWaits(pid: number): string {
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch (error) {
      return `(${(error as NodeJS.ErrnoException).code})`;
    }
  };
  const lines: string[] = [];
  const visit = (p: number, depth: number) => {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    lines.push(`${'  '.repeat(depth)}pid ${p} ${read(`/proc/${p}/cmdline`).replaceAll('\0', ' ')}`);
    for (const tid of tids) {
      const stat = read(`/proc/${p}/task/${tid}/stat`).split(') ')[1]?.split(' ')[0];
      const top = read(`/proc/${p}/task/${tid}/stack`).split('\n').slice(0, 4).join(' < ');
      lines.push(`${'  '.repeat(depth + 1)}${tid} ${read(`/proc/${p}/task/${tid}/comm`)} ${stat}: ${top}`);
      for (const c of read(`/proc/${p}/task/${tid}/children`).split(' ').filter(Boolean))
        visit(Number(c), depth + 2);
    }
  };
  visit(pid, 0);
  return lines.join('\n');
}

/**
 * The end of a CLI run while `mount` is frozen. A run that has not ended after `ms` fails the
 * test with where its threads wait and what it printed, after a thaw that lets it end (else the
 * test itself would wait for the mount until its own timeout, with nothing to show).
 */
export async function endedWithin(cli: StartedCli, ms: number, mount: FreezableMount): Promise<CliRun> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), ms);
  });
  const first = await Promise.race([cli.done, late]);
  clearTimeout(timer);
  if (first !== 'late') return first;
  const waits = kernelWaits(cli.pid);
  mount.thaw();
  await cli.done;
  throw new Error(
    `the CLI had not ended ${ms / 1000} s after it was started on a frozen mount:\n${waits}\nstderr:\n${cli.stderrSoFar()}`,
  );
}
