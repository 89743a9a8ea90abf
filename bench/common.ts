import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Measured {
  seconds: number;
  /** Peak resident set of the largest process in the run (GNU time's %M), in MiB. */
  peakRssMiB: number;
  /**
   * CPU seconds (user + system) of the command and the children it waited for: for lms-backup
   * Node, pg_dump and zstd; not the database server's backend, which every variant shares.
   */
  cpuSeconds: number;
}

/** Runs a command under /usr/bin/time: wall seconds and peak RSS, failing loudly on error. */
export async function measure(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Measured> {
  const started = process.hrtime.bigint();
  const child = spawn('/usr/bin/time', ['-f', '%M %U %S', cmd, ...args], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${code}):\n${stderr.slice(-2000)}`);
  const [kb, user, sys] = (stderr.trim().split('\n').pop() ?? '').split(' ').map(Number) as [
    number,
    number,
    number,
  ];
  return { seconds, peakRssMiB: kb / 1024, cpuSeconds: user + sys };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Runs every variant `runs` times, alternating (A B C A B C …) so that drift on a shared,
 * noisy machine hits all variants alike. Returns the measurements per variant.
 */
export async function alternate<K extends string>(
  runs: number,
  variants: Record<K, () => Promise<Measured>>,
  log: (s: string) => void = (s) => process.stderr.write(`${s}\n`),
): Promise<Record<K, Measured[]>> {
  const out = Object.fromEntries(Object.keys(variants).map((k) => [k, [] as Measured[]])) as Record<
    K,
    Measured[]
  >;
  for (let i = 0; i < runs; i++) {
    for (const k of Object.keys(variants) as K[]) {
      const m = await variants[k]();
      out[k].push(m);
      log(`  run ${i + 1}/${runs} ${k}: ${m.seconds.toFixed(2)} s, peak ${m.peakRssMiB.toFixed(0)} MiB`);
    }
  }
  return out;
}

export function table(headers: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The machine's CPU time so far, in clock ticks: all of it, and what the hypervisor stole. */
function cpuTicks(): { total: number; steal: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  return { total: f.slice(0, 8).reduce((a, b) => a + b, 0), steal: f[7] ?? 0 };
}

/**
 * Starts counting CPU stolen by the hypervisor (a shared VM's neighbours); the function it
 * returns gives the stolen share of the machine's CPU time since, 0 to 1 (NaN off Linux).
 */
export function stolenShare(): () => number {
  try {
    const start = cpuTicks();
    return () => {
      const now = cpuTicks();
      return (now.steal - start.steal) / (now.total - start.total || 1);
    };
  } catch {
    return () => Number.NaN;
  }
}
