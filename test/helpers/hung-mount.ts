/**
 * A directory whose file system stops answering, as a stopped NFS server or a dead FUSE daemon
 * leaves one: a FUSE mount whose connection this process opens and never serves. Every call
 * into it (stat, open, mkdir, …) waits until the connection is closed. Real kernel behaviour,
 * not a fake: needs root (CAP_SYS_ADMIN) and /dev/fuse, as on this machine kind and on
 * GitHub-hosted runners (sudo).
 *
 * stop() closes the connection (every waiting call then fails with ENOTCONN, so stuck threads
 * in this or any other process are freed) and unmounts the directory.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';

export interface HungMount {
  /** The mount point: anything under it hangs. */
  path: string;
  stop(): void;
}

/** Why a hung mount cannot be made here, or undefined when it can. */
export function hungMountUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'a FUSE mount needs root';
  if (!existsSync('/dev/fuse')) return 'no /dev/fuse';
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
