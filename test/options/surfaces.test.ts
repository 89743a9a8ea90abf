/**
 * Every option of every command, given the same text as a CLI flag, an action input and a
 * lms-backup.yml key, parses to the same value and, when bad, to the same error (only the name
 * the user wrote differs). The CLI's flags are the ones buildProgram declares from the spec.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { addSpecOptions, cliOptionNames, cliValues } from '../../src/cli/options.js';
import { Problems } from '../../src/config.js';
import { COMMANDS, type CommandName, type OptionName, specOf } from '../../src/options/spec.js';
import { loadConfigFile, OptionValues } from '../../src/options/values.js';

const tmp = mkdtempSync(join(tmpdir(), 'lms-surfaces-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A good and (where the parser can refuse anything) a bad text for each option. */
const SAMPLES: Partial<Record<OptionName, [good: string, bad?: string]>> = {
  'min-bytes': ['1024', 'lots'],
  'min-tables': ['3', 'many'],
  jobs: ['2', '0'],
  'postgres-major': ['17', 'seventeen'],
  'keep-days': ['14', '0'],
  'keep-daily': ['7', '-1'],
  'keep-weekly': ['4', 'four'],
  'keep-monthly': ['12', '1.5'],
  'keep-min': ['3', 'x'],
  'window-days': ['7', 'a week'],
  rto: ['30m', 'soon'],
  rpo: ['24h', '0'],
  engine: ['local', 'kubernetes'],
  compression: ['zstd:3', 'brotli'],
  'notify-min-severity': ['info', 'loud'],
  before: ['2024-01-15T03:00Z', 'yesterday-ish'],
  prefix: ['lms-prod', 'bad_one!'],
  'fail-on': ['stale,rto', 'stale,never'],
  formats: ['json,html', 'pdf'],
};

function cases(command: CommandName) {
  return cliOptionNames(command).map((name) => {
    const spec = specOf(name);
    const [good, bad] =
      SAMPLES[name] ?? (spec.kind === 'bool' ? ['x'] : spec.kind === 'list' ? ['one,two'] : ['some-value']);
    return { name, spec, good, bad };
  });
}

function fromFlag(command: CommandName, argv: string[]) {
  const program = new Command().exitOverride();
  const cmd = addSpecOptions(program.command(command), command).action(() => {});
  program.parse([command, ...argv], { from: 'user' });
  const problems = new Problems();
  return { v: cliValues(cmd, command, problems, { file: undefined, database: undefined }), problems };
}

function fromInput(command: CommandName, name: OptionName, raw: string) {
  const problems = new Problems();
  const list = specOf(name).kind === 'list';
  const v = new OptionValues({
    command,
    direct: (n) => (n === name ? { raw: list ? raw.split(',') : raw, name, origin: 'input' } : undefined),
    env: {},
    surface: 'action',
    problems,
  });
  return { v, problems };
}

function fromFile(command: CommandName, name: OptionName, yamlValue: string) {
  const problems = new Problems();
  const path = join(tmp, `${command}-${name}.yml`);
  writeFileSync(path, `${command}:\n  ${name}: ${yamlValue}\n`);
  const file = loadConfigFile(path, problems);
  expect(problems.list, `${path} loads`).toEqual([]);
  const v = new OptionValues({ command, direct: () => undefined, env: {}, file, surface: 'cli', problems });
  return { v, problems, label: `${path}: ${command}.${name}` };
}

const messages = (p: Problems, name: string) =>
  p.list.map((e) => `${e.message.replace(name, 'NAME')} (${e.hint ?? ''})`);

describe.each(COMMANDS)('%s: flag, input and config key', (command) => {
  it.each(cases(command))('$name parses the same everywhere', ({ name, spec, good, bad }) => {
    if (spec.kind === 'bool') {
      // The flag is a switch: it says the opposite of the default (or turns a no-… option on).
      const flag = spec.default === 'true' ? `--no-${name}` : `--${name}`;
      const expected = spec.default !== 'true';
      const cli = fromFlag(command, [flag]);
      const text = String(expected);
      expect(cli.v.get(name)).toBe(expected);
      expect(fromInput(command, name, text).v.get(name)).toBe(expected);
      expect(fromFile(command, name, text).v.get(name)).toBe(expected);
      // An input or key that is not a boolean is refused the same way in both.
      const input = fromInput(command, name, 'maybe');
      const file = fromFile(command, name, 'maybe');
      input.v.get(name);
      file.v.get(name);
      expect(input.problems.list.length).toBe(1);
      expect(messages(file.problems, file.label)).toEqual(messages(input.problems, name));
      return;
    }
    const argv =
      spec.kind === 'list' ? good.split(',').flatMap((g) => [`--${name}`, g]) : [`--${name}`, good];
    const cli = fromFlag(command, argv);
    const input = fromInput(command, name, good);
    const yaml = spec.kind === 'list' ? `[${good.split(',').join(', ')}]` : JSON.stringify(good);
    const file = fromFile(command, name, yaml);
    const value = cli.v.get(name);
    expect(value, `${name} parses`).toBeDefined();
    expect(cli.problems.list).toEqual([]);
    expect(input.v.get(name)).toEqual(value);
    expect(file.v.get(name)).toEqual(value);
    if (bad === undefined) return;
    const badCli = fromFlag(
      command,
      spec.kind === 'list' ? bad.split(',').flatMap((b) => [`--${name}`, b]) : [`--${name}`, bad],
    );
    const badInput = fromInput(command, name, bad);
    const badFile = fromFile(
      command,
      name,
      spec.kind === 'list' ? `[${bad.split(',').join(', ')}]` : JSON.stringify(bad),
    );
    if (spec.kind !== 'list') expect(badCli.v.get(name)).toBeUndefined();
    else badCli.v.get(name);
    badInput.v.get(name);
    badFile.v.get(name);
    const expected = messages(badCli.problems, `--${name}`);
    expect(expected.length, `${name} ${bad} is refused`).toBeGreaterThan(0);
    expect(messages(badInput.problems, name)).toEqual(expected);
    expect(messages(badFile.problems, badFile.label)).toEqual(expected);
  });
});

describe('the CLI declares exactly the spec', () => {
  it.each(COMMANDS)('%s --help lists every option of the spec and no other', (command) => {
    const cmd = buildProgram().commands.find((c) => c.name() === command)!;
    const shown = cmd.options.filter((o) => !o.hidden).map((o) => o.long);
    const expected = cliOptionNames(command).map((n) => {
      const s = specOf(n);
      return s.kind === 'bool' && s.default === 'true' ? `--no-${n}` : `--${n}`;
    });
    expect(shown).toEqual(expected);
  });

  it('an older spelling still works, hidden from --help', () => {
    const { v } = fromFlag('restore', ['--table', 'public.users', '--table', 'public.courses']);
    expect(v.get('tables')).toEqual(['public.users', 'public.courses']);
    const report = fromFlag('report', ['--window', '7', '--out-dir', 'out', '--format', 'json']);
    expect(report.v.get('window-days')).toBe(7);
    expect(report.v.get('output-dir')).toBe('out');
    expect(report.v.get('formats')).toEqual(['json']);
    expect(report.v.nameOf('window-days')).toBe('--window');
  });
});
