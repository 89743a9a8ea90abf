/**
 * Teardown that happens on success, on failure and on SIGINT/SIGTERM: every throwaway server,
 * container and temp directory registers here and is removed however the process ends.
 */
import { endProcess } from '../processes.js';

type Teardown = { name: string; run: () => Promise<void>; runSync?: () => void };

const pending = new Set<Teardown>();
const signalHooks: ((signal: NodeJS.Signals) => Promise<unknown>)[] = [];
let installed = false;
let signalled = false;

export interface TeardownHandle {
  /** Runs the teardown now (once) and forgets it. */
  run(): Promise<void>;
  /** Forgets it without running (it was done another way). */
  release(): void;
}

/**
 * Registers a teardown. `runSync` is the last resort on process exit, when nothing async can
 * run any more (e.g. `pg_ctl stop -m immediate` with spawnSync).
 */
export function registerTeardown(
  name: string,
  run: () => Promise<void>,
  runSync?: () => void,
): TeardownHandle {
  installHandlers();
  const entry: Teardown = runSync ? { name, run, runSync } : { name, run };
  pending.add(entry);
  let done: Promise<void> | undefined;
  return {
    run() {
      done ??= (async () => {
        pending.delete(entry);
        await entry.run();
      })();
      return done;
    },
    release() {
      pending.delete(entry);
    },
  };
}

/** Runs every pending teardown; used by signal handlers and the action's post step. */
export async function runAllTeardowns(): Promise<void> {
  const all = [...pending].reverse();
  pending.clear();
  await Promise.allSettled(all.map((t) => t.run()));
}

/**
 * Runs `hook` (e.g. writing the run's failure record) alongside the teardowns when a signal
 * ends the process, before it exits with 128 + the signal number.
 */
export function onSignal(hook: (signal: NodeJS.Signals) => Promise<unknown>): void {
  installHandlers();
  signalHooks.push(hook);
}

/**
 * The signals that tear down: SIGINT (Ctrl+C), SIGTERM, SIGHUP (on Windows: the console closed),
 * and on Windows SIGBREAK (Ctrl+Break). Windows delivers no SIGTERM: a stopped task is killed.
 */
export function teardownSignals(platform: NodeJS.Platform = process.platform): NodeJS.Signals[] {
  return ['SIGINT', 'SIGTERM', 'SIGHUP', ...(platform === 'win32' ? (['SIGBREAK'] as const) : [])];
}

/** The exit code after a signal: 128 + its number, as shells report it. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return { SIGINT: 130, SIGTERM: 143, SIGHUP: 129, SIGBREAK: 149 }[signal as string] ?? 1;
}

/** Installs the teardown signal handlers now (the CLI does, before any work starts). */
export function installHandlers(): void {
  if (installed) return;
  installed = true;
  for (const signal of teardownSignals()) {
    process.on(signal, () => {
      if (signalled) return;
      signalled = true;
      if (pending.size)
        process.stderr.write(`lms-backup: ${signal} received, tearing down ${pending.size} resource(s)\n`);
      const code = signalExitCode(signal);
      void Promise.allSettled([runAllTeardowns(), ...signalHooks.map((h) => h(signal))]).finally(() =>
        endProcess(code),
      );
      // If teardown hangs, do not hang with it.
      setTimeout(() => endProcess(code), 30_000).unref();
    });
  }
  process.on('exit', () => {
    for (const t of pending) {
      try {
        t.runSync?.();
      } catch {
        // best effort at exit
      }
    }
  });
}
