import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { removeLeftoverContainers } from '../../engines/docker.js';
import { sweepDrillDebris } from '../../engines/local.js';
import { runAllTeardowns } from '../../engines/teardown.js';
import type { Logger } from '../../log.js';
import { isProcessAlive } from '../../processes.js';
import type { StepContext } from '../context.js';
import { DRILL_STATE } from './drill.js';

/**
 * The drill's post step (`post-if: always()`): when a drill was cancelled or killed, removes
 * the throwaway containers labelled with its run id and stops any local throwaway server left
 * in its work directory. Never fails the job: a clean-up problem is a warning.
 */
export async function drillPostStep(ctx: StepContext): Promise<void> {
  const { io, logger } = ctx;
  const workRoot = io.getState(DRILL_STATE.workRoot);
  const runId = io.getState(DRILL_STATE.runId);
  const engine = io.getState(DRILL_STATE.engine);
  if (!workRoot && !runId) {
    logger.debug('the drill step saved no state: nothing to tear down');
    return;
  }
  try {
    await runAllTeardowns();
    if (runId && engine !== 'local') {
      try {
        const removed = await removeLeftoverContainers(runId);
        if (removed > 0) logger.info(`removed ${removed} throwaway container(s) the drill left behind`);
        else logger.debug(`no leftover containers for run ${runId}`);
      } catch (error) {
        logger.debug(`no container clean-up: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (workRoot && existsSync(workRoot)) {
      const stopped = await stopLeftoverLocalServers(workRoot, logger);
      if (stopped > 0) logger.info(`stopped ${stopped} throwaway PostgreSQL server(s) the drill left behind`);
      // The main step's process is gone: what else is under its work root (a pg_restore still
      // reading the dump) is debris too.
      await sweepDrillDebris(workRoot, logger);
      rmSync(workRoot, { recursive: true, force: true });
    }
  } catch (error) {
    logger.warn(`clean-up after the drill: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The postmaster of a data directory under `workRoot`, when it is still running. */
function postmasterOf(dataDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 1 || !isProcessAlive(pid)) return undefined;
  // A stale pid file could name a recycled pid: on Linux, make sure it is this server.
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes(dataDir)) return undefined;
  } catch {
    // no /proc (macOS): the pid file in our own work directory is the evidence
  }
  return pid;
}

/** Stops every local throwaway server under `workRoot` (lms-pg-*): SIGQUIT, then SIGKILL. */
export async function stopLeftoverLocalServers(workRoot: string, logger: Logger): Promise<number> {
  let stopped = 0;
  for (const entry of readdirSync(workRoot)) {
    if (!entry.startsWith('lms-pg-')) continue;
    const dataDir = join(workRoot, entry, 'data');
    const pid = postmasterOf(dataDir);
    if (pid === undefined) continue;
    logger.info(`stopping the throwaway PostgreSQL in ${dataDir} (pid ${pid})`);
    try {
      process.kill(pid, 'SIGQUIT'); // immediate shutdown: the data is thrown away anyway
    } catch {
      continue;
    }
    const deadline = Date.now() + 10_000;
    while (isProcessAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (isProcessAlive(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone in between
      }
    }
    stopped++;
  }
  return stopped;
}
