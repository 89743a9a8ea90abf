import type { Logger } from '../log.js';
import { interruptProgress } from './progress.js';

/** CLI logging on stderr (stdout is kept for results and --json); a progress line is ended first. */
export function cliLogger(options: { quiet?: boolean; verbose?: boolean } = {}): Logger {
  const out = (s: string) => {
    interruptProgress();
    process.stderr.write(`${s}\n`);
  };
  return {
    debug: (m) => {
      if (options.verbose) out(`  ${m}`);
    },
    info: (m) => {
      if (!options.quiet) out(m);
    },
    warn: (m) => out(`warning: ${m}`),
    error: (m) => out(`error: ${m}`),
    async group(title, fn) {
      if (!options.quiet) out(`» ${title}`);
      return fn();
    },
  };
}
