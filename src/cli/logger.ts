import type { Logger } from '../log.js';

/** CLI logging on stderr (stdout is kept for results and --json). */
export function cliLogger(options: { quiet?: boolean; verbose?: boolean } = {}): Logger {
  const out = (s: string) => process.stderr.write(`${s}\n`);
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
