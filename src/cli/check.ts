/** `lms-backup check`: its flags from the options spec, the checks, ✓/✗ lines or --json, exit 0/1/2. */
import { type Command, Option } from 'commander';
import { type CheckReport, renderCheckReport, runCheck } from '../commands/check.js';
import { Problems } from '../config.js';
import { checkSettings, NO_MASK } from '../options/settings.js';
import { COMMAND_OPTIONS, FILE_OPTIONS, type OptionName, specOf } from '../options/spec.js';
import { cliLogger } from './logger.js';
import { cliValues } from './options.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Declares a command's flags from the spec (config and database are global flags). */
function addSpecOptions(cmd: Command, names: readonly OptionName[]): void {
  for (const name of names) {
    const spec = specOf(name);
    if (FILE_OPTIONS.includes(name) || spec.secret || spec.actionOnly) continue;
    const flags = (flag: string) =>
      spec.kind === 'bool'
        ? spec.default === 'true'
          ? `--no-${flag.replace(/^--/, '')}`
          : flag
        : `${flag} ${spec.arg ?? '<value>'}`;
    const main = new Option(flags(`--${name}`), spec.help);
    if (spec.kind === 'list') main.argParser(collect);
    cmd.addOption(main);
    for (const alias of spec.aliases ?? []) {
      const o = new Option(flags(alias), spec.help).hideHelp();
      if (spec.kind === 'list') o.argParser(collect);
      cmd.addOption(o);
    }
  }
}

export function registerCheck(program: Command): void {
  const cmd = program
    .command('check')
    .description(
      'check every part of a setup before the first night: connection, read access, pg tools, destinations, keys, drill engine, disk, webhooks; a line each with the fix',
    );
  addSpecOptions(cmd, COMMAND_OPTIONS.check);
  cmd.addHelpText(
    'after',
    '\nReads the backup: and drill: sections of lms-backup.yml; flags override them.\n' +
      'Exit codes: 0 every check passed, 1 a check failed, 2 bad configuration.',
  );
  cmd.action(async (_opts, c: Command) => {
    const g = c.optsWithGlobals<{ json?: boolean; quiet?: boolean; verbose?: boolean }>();
    const logger = cliLogger(g);
    const problems = new Problems();
    const { config } = await checkSettings(cliValues(c, 'check', problems), {
      env: process.env,
      logger,
      mask: NO_MASK,
      requireConnection: false,
    });
    const report: CheckReport = await runCheck(config, { logger, env: process.env });
    if (g.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else process.stdout.write(renderCheckReport(report));
    if (!report.ok) process.exitCode = 1;
  });
}
