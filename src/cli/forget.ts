/** `lms-backup forget`: record an erasure request in the ledger of every destination (and, asked, apply it). */
import type { Command } from 'commander';
import { recorded } from '../commands/recorded.js';
import { beginRun } from '../commands/run-context.js';
import { Problems } from '../config.js';
import { runForget } from '../erasure/forget.js';
import { forgetOutcome, renderForget } from '../erasure/outcome.js';
import { forgetSettings, NO_MASK } from '../options/settings.js';
import { COMMAND_OPTIONS, FILE_OPTIONS, specOf } from '../options/spec.js';
import { cliLogger } from './logger.js';
import { cliValues } from './options.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface GlobalOpts {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

export function registerForget(program: Command): void {
  const cmd = program
    .command('forget')
    .description(
      'record an erasure request (GDPR) in the erasure ledger of every destination; every restore and drill replays it',
    );
  for (const name of COMMAND_OPTIONS.forget) {
    if (FILE_OPTIONS.includes(name)) continue;
    const spec = specOf(name);
    if (spec.kind === 'bool') {
      if (spec.default === 'true') cmd.option(`--no-${name}`, spec.help);
      else cmd.option(`--${name}`, spec.help);
      continue;
    }
    if (spec.secret) continue;
    const arg = spec.arg ?? '<value>';
    const flags = [`--${name}`, ...(spec.aliases ?? [])];
    for (const [i, f] of flags.entries()) {
      if (spec.kind === 'list') cmd.option(`${f} ${arg}`, i === 0 ? spec.help : `same as --${name}`, collect);
      else cmd.option(`${f} ${arg}`, i === 0 ? spec.help : `same as --${name}`);
    }
  }
  cmd.action(async (_opts, c: Command) => {
    const g = c.optsWithGlobals<GlobalOpts>();
    const logger = cliLogger(g);
    beginRun('forget', logger);
    const problems = new Problems();
    const config = await forgetSettings(cliValues(c, 'forget', problems), {
      env: process.env,
      logger,
      mask: NO_MASK,
      requireConnection: false,
    });
    const { result } = await recorded(
      { command: 'forget', storages: config.destinations, notifiers: [], logger },
      () => runForget(config, { logger }),
      forgetOutcome,
    );
    if (g.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else process.stdout.write(renderForget(result));
  });
}
