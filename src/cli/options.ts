/**
 * The CLI side of the one options spec (src/options/spec.ts): each command's flags are declared
 * from it, and the parsed flags become a source of the command's OptionValues, with the config
 * file and the environment behind them. No flag carries a commander default: a default comes
 * from the spec, so a flag, an input and a config key given the same text parse the same.
 */
import { type Command, Option } from 'commander';
import type { Problems } from '../config.js';
import { splitItems } from '../options/parse.js';
import {
  COMMAND_OPTIONS,
  type CommandName,
  FILE_OPTIONS,
  type OptionName,
  type OptionSpec,
  specOf,
} from '../options/spec.js';
import { type ConfigFile, loadConfigFile, OptionValues, type RawValue } from '../options/values.js';

const camel = (s: string) => s.replace(/^--/, '').replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * How a boolean option is spelled on the command line. An option on by default is turned off
 * by `--no-<name>`; an option named `no-…` (off by default) is its own flag, which commander
 * stores negated under the rest of its name.
 */
function boolFlag(
  name: OptionName,
  spec: OptionSpec,
): { flag: string; attr: string; given: (v: unknown) => string } {
  if (spec.default === 'true') return { flag: `--no-${name}`, attr: camel(name), given: () => 'false' };
  if (name.startsWith('no-')) return { flag: `--${name}`, attr: camel(name.slice(3)), given: () => 'true' };
  return { flag: `--${name}`, attr: camel(name), given: () => 'true' };
}

/** The options of a command that are CLI flags (not the file selectors, secrets or action-only ones). */
export function cliOptionNames(command: CommandName): OptionName[] {
  return (COMMAND_OPTIONS[command] as readonly OptionName[]).filter((n) => {
    const s = specOf(n);
    return !FILE_OPTIONS.includes(n) && !s.secret && !s.actionOnly;
  });
}

function helpOf(spec: OptionSpec, command: CommandName): string {
  const perCommand = spec.cliHelp?.[command];
  const text = perCommand ?? spec.help;
  const def = spec.cliDefault ?? spec.default;
  if (spec.kind === 'bool' || def === '' || text.includes('default')) return text;
  return `${text} (default: ${def})`;
}

/** Declares a command's flags from the spec, each once, older spellings hidden. */
export function addSpecOptions(cmd: Command, command: CommandName): Command {
  for (const name of cliOptionNames(command)) {
    const spec = specOf(name);
    if (spec.kind === 'bool') {
      cmd.addOption(new Option(boolFlag(name, spec).flag, helpOf(spec, command)));
      continue;
    }
    const arg = spec.arg ?? '<value>';
    const main = new Option(`--${name} ${arg}`, helpOf(spec, command));
    if (spec.kind === 'list') main.argParser(collect);
    cmd.addOption(main);
    for (const alias of spec.aliases ?? []) {
      if (cmd.options.some((o) => o.long === alias)) continue;
      const hidden = new Option(`${alias} ${arg}`).hideHelp();
      if (spec.kind === 'list') hidden.argParser(collect);
      cmd.addOption(hidden);
    }
  }
  return cmd;
}

/** The values of one command run: flags (and their old spellings), the environment, lms-backup.yml. */
export function cliValues(
  cmd: Command,
  command: CommandName,
  problems: Problems,
  fleet: { file: ConfigFile | undefined; database: string | undefined },
): OptionValues {
  const opts = cmd.opts<Record<string, unknown>>();
  const direct = (name: OptionName): RawValue | undefined => {
    const spec = specOf(name);
    if (spec.kind === 'bool') {
      const b = boolFlag(name, spec);
      if (cmd.getOptionValueSource(b.attr) !== 'cli') return undefined;
      return { raw: b.given(opts[b.attr]), name: b.flag, origin: 'flag' };
    }
    const items: string[] = [];
    let used: string | undefined;
    for (const flag of [`--${name}`, ...(spec.aliases ?? [])]) {
      const attr = camel(flag);
      if (cmd.getOptionValueSource(attr) !== 'cli') continue;
      // An alias another option of this command owns is that option's flag, not this one's.
      if (flag !== `--${name}` && (COMMAND_OPTIONS[command] as readonly string[]).includes(flag.slice(2))) {
        continue;
      }
      const value = opts[attr];
      if (spec.kind !== 'list') return { raw: String(value), name: flag, origin: 'flag' };
      used ??= flag;
      items.push(...(Array.isArray(value) ? value : [value]).map(String).flatMap(splitItems));
    }
    return used ? { raw: items, name: used, origin: 'flag' } : undefined;
  };
  return new OptionValues({
    command,
    direct,
    env: process.env,
    file: fleet.file,
    database: fleet.database,
    surface: 'cli',
    problems,
  });
}

/** The config file named by --config (else ./lms-backup.yml when present). */
export function cliConfigFile(cmd: Command, problems: Problems): ConfigFile | undefined {
  return loadConfigFile(cmd.optsWithGlobals<{ config?: string }>().config, problems);
}
