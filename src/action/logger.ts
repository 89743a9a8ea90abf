import type { Logger } from '../log.js';
import type { ActionIO } from './io.js';
import type { Secrets } from './secrets.js';

/**
 * The commands' Logger on the runner's log: warnings and errors become annotations, debug lines
 * show with ACTIONS_STEP_DEBUG, and each phase is one collapsible group. The runner cannot nest
 * groups, so a group opened inside (or alongside) another is a plain heading line instead.
 * Every line is scrubbed of registered secrets.
 */
export function actionLogger(io: ActionIO, secrets: Secrets): Logger {
  let open = 0;
  const clean = (m: string) => secrets.scrub(m);
  return {
    debug: (m) => io.debug(clean(m)),
    info: (m) => io.info(clean(m)),
    warn: (m) => io.warning(clean(m)),
    error: (m) => io.error(clean(m)),
    async group<T>(title: string, fn: () => Promise<T>): Promise<T> {
      if (open > 0) {
        io.info(`» ${clean(title)}`);
        return fn();
      }
      open++;
      io.startGroup(clean(title));
      try {
        return await fn();
      } finally {
        io.endGroup();
        open--;
      }
    },
  };
}
