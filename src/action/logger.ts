import type { Logger } from '../log.js';
import type { ActionIO } from './io.js';
import type { Secrets } from './secrets.js';

/**
 * The commands' Logger on the runner's log: warnings and errors become annotations, debug lines
 * show with ACTIONS_STEP_DEBUG, and each phase is one collapsible group. The runner's groups are
 * flat: a group that starts while another is open (a sub-phase, or a phase running alongside)
 * closes it and takes over; the first one's end then closes nothing. Every line is scrubbed of
 * registered secrets.
 */
export function actionLogger(io: ActionIO, secrets: Secrets): Logger {
  let current: symbol | undefined;
  const clean = (m: string) => secrets.scrub(m);
  return {
    debug: (m) => io.debug(clean(m)),
    info: (m) => io.info(clean(m)),
    warn: (m) => io.warning(clean(m)),
    error: (m) => io.error(clean(m)),
    async group<T>(title: string, fn: () => Promise<T>): Promise<T> {
      const token = Symbol(title);
      if (current) io.endGroup();
      current = token;
      io.startGroup(clean(title));
      try {
        return await fn();
      } finally {
        if (current === token) {
          io.endGroup();
          current = undefined;
        }
      }
    },
  };
}
