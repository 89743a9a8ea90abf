/** Commander's parsed flags as a source of the options spec, with the config file behind them. */
import type { Command } from 'commander';
import type { Problems } from '../config.js';
import { splitItems } from '../options/parse.js';
import { type CommandName, type OptionName, specOf } from '../options/spec.js';
import { loadConfigFile, OptionValues, type RawValue, selectDatabases } from '../options/values.js';

const camel = (flag: string) =>
  flag.replace(/^--/, '').replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

/** The values of one command run: flags (and their old spellings), the environment, lms-backup.yml. */
export function cliValues(cmd: Command, command: CommandName, problems: Problems): OptionValues {
  const opts = cmd.opts<Record<string, unknown>>();
  const g = cmd.optsWithGlobals<{ config?: string; database?: string }>();
  const direct = (name: OptionName): RawValue | undefined => {
    const spec = specOf(name);
    const items: string[] = [];
    let used: string | undefined;
    for (const flag of [`--${name}`, ...(spec.aliases ?? [])]) {
      const attr = camel(flag);
      if (cmd.getOptionValueSource(attr) !== 'cli') continue;
      const value = opts[attr];
      if (spec.kind === 'bool') {
        return { raw: String(value), name: value === false ? `--no-${name}` : flag, origin: 'flag' };
      }
      if (spec.kind !== 'list') return { raw: String(value), name: flag, origin: 'flag' };
      used ??= flag;
      items.push(...(Array.isArray(value) ? value : [value]).map(String).flatMap(splitItems));
    }
    return used ? { raw: items, name: used, origin: 'flag' } : undefined;
  };
  const file = loadConfigFile(g.config, problems);
  const [database] = selectDatabases(
    file,
    { database: g.database, names: { database: '--database' } },
    problems,
  );
  return new OptionValues({ command, direct, env: process.env, file, database, surface: 'cli', problems });
}
