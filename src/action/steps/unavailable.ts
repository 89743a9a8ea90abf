import { ConfigError } from '../../errors.js';
import type { StepContext } from '../context.js';
import { writeSummary } from '../context.js';

/** A step whose command this version does not ship yet: fails clearly, before touching anything. */
export function unavailableStep(step: string): (ctx: StepContext) => Promise<void> {
  return async (ctx) => {
    const error = new ConfigError(`the ${step} step is not available in this version of lms-backup-action`, {
      hint: `pin a release that lists "${step}" in its README, or use the backup and drill steps`,
    });
    await writeSummary(ctx, `## ❌ ${step}: not available in this version\n\n${error.message}.\n`);
    throw error;
  };
}
