/**
 * Where an option's value comes from, in order: the flag or action input, then the database's
 * section of the config file (a fleet), then the environment, then the file's top-level section
 * for the command, then the spec's default. Each value keeps the name it was given under, so a
 * problem names what the user wrote. Parsing is lazy and collects every problem in one Problems.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { Problems } from '../config.js';
import { hasSecretParam } from '../redact.js';
import { splitItems } from './parse.js';
import {
  COMMAND_OPTIONS,
  COMMANDS,
  type CommandName,
  FILE_OPTIONS,
  type OptionName,
  specOf,
  type ValueOf,
} from './spec.js';

export type Origin = 'flag' | 'input' | 'file' | 'env' | 'default';

export interface RawValue {
  raw: string | string[];
  /** How a message names it: --min-tables, min-tables, lms-backup.yml: drill.min-tables, LMS_BACKUP_… */
  name: string;
  origin: Origin;
}

/** A value given directly (a CLI flag or an action input), or undefined when not given. */
export type DirectSource = (name: OptionName) => RawValue | undefined;

export const DEFAULT_CONFIG_FILE = 'lms-backup.yml';

type Section = Record<string, unknown>;

export interface ConfigFile {
  path: string;
  /** As written in messages: the path the user gave, or lms-backup.yml. */
  label: string;
  sections: Partial<Record<CommandName, Section>>;
  /** A fleet: per-database sections, in file order. */
  databases: Map<string, Partial<Record<CommandName, Section>>>;
}

/**
 * Reads and checks the file's shape: known sections and keys only, and no secret in it.
 * Returns undefined (problems recorded) when it cannot be used.
 */
export function loadConfigFile(
  given: string | undefined,
  problems: Problems,
  cwd = process.cwd(),
): ConfigFile | undefined {
  const path = resolve(cwd, given ?? DEFAULT_CONFIG_FILE);
  if (given === undefined && !existsSync(path)) return undefined;
  const label = given ?? DEFAULT_CONFIG_FILE;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    problems.add(
      `config: cannot read ${label} (${(error as NodeJS.ErrnoException).code ?? error})`,
      'give the path of a lms-backup.yml file',
    );
    return undefined;
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    for (const e of doc.errors) problems.add(`${label}: ${e.message.split('\n')[0]}`, 'fix the YAML');
    return undefined;
  }
  const root = doc.toJS() as unknown;
  if (root === null || root === undefined) return { path, label, sections: {}, databases: new Map() };
  if (!isMap(root)) {
    problems.add(`${label}: must be a map of sections (backup:, drill:, … or databases:)`);
    return undefined;
  }
  const file: ConfigFile = { path, label, sections: {}, databases: new Map() };
  const before = problems.list.length;
  file.sections = readSections(root, label, '', problems, true);
  const dbs = root.databases;
  if (dbs !== undefined) {
    if (!isMap(dbs)) problems.add(`${label}: databases must be a map of database names to their sections`);
    else {
      for (const [db, sections] of Object.entries(dbs)) {
        if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(db)) {
          problems.add(`${label}: database name "${db}" must be letters, digits, dashes and underscores`);
          continue;
        }
        if (!isMap(sections)) {
          problems.add(`${label}: databases.${db} must be a map of sections (backup:, drill:, …)`);
          continue;
        }
        file.databases.set(db, readSections(sections, label, `databases.${db}.`, problems, false));
      }
    }
  }
  return problems.list.length > before ? undefined : file;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const URL_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/@?#]*:[^@/?#]*@/i;

function readSections(
  node: Record<string, unknown>,
  label: string,
  at: string,
  problems: Problems,
  top: boolean,
): Partial<Record<CommandName, Section>> {
  const out: Partial<Record<CommandName, Section>> = {};
  for (const [key, value] of Object.entries(node)) {
    if (top && key === 'databases') continue;
    if (!(COMMANDS as readonly string[]).includes(key)) {
      problems.add(
        `${label}: ${at}${key} is not a section`,
        `sections are ${COMMANDS.join(', ')}${top ? ' and databases' : ''}`,
      );
      continue;
    }
    const command = key as CommandName;
    if (value === null || value === undefined) continue;
    if (!isMap(value)) {
      problems.add(`${label}: ${at}${key} must be a map of options`);
      continue;
    }
    const allowed = (COMMAND_OPTIONS[command] as readonly OptionName[]).filter(
      (o) => !FILE_OPTIONS.includes(o),
    );
    for (const [opt, v] of Object.entries(value)) {
      const where = `${label}: ${at}${key}.${opt}`;
      if (!(allowed as readonly string[]).includes(opt)) {
        problems.add(`${where} is not an option of ${command}`, `${command} takes ${allowed.join(', ')}`);
        continue;
      }
      const spec = specOf(opt as OptionName);
      if (spec.secret) {
        problems.add(
          `${where}: a secret never goes in the config file`,
          `remove it and use ${spec.secret.instead}`,
        );
        continue;
      }
      const items = Array.isArray(v) ? v : [v];
      for (const item of items) {
        if (typeof item !== 'string') continue;
        if ((opt === 'database-url' || opt === 'target-url') && URL_PASSWORD.test(item)) {
          problems.add(
            `${where} holds a password, and a password never goes in the config file`,
            'remove it from the URL and set PGPASSWORD (or a ~/.pgpass file) instead',
          );
        } else if (hasSecretParam(item)) {
          problems.add(
            `${where} holds a credential in its query, and a secret never goes in the config file`,
            'put storage credentials in the environment (e.g. AZURE_STORAGE_SAS_TOKEN, AWS_*) or use an OIDC login',
          );
        }
      }
    }
    out[command] = value;
  }
  return out;
}

/** A file value as raw text: scalars as strings, lists as lists; undefined when empty. */
function fileRaw(v: unknown, list: boolean, name: string, problems: Problems): string | string[] | undefined {
  if (v === null || v === undefined) return undefined;
  const scalar = (x: unknown): string | undefined => {
    if (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') return String(x);
    problems.add(`${name} must be a plain value (got ${Array.isArray(x) ? 'a list' : 'a map'})`);
    return undefined;
  };
  if (Array.isArray(v)) {
    if (!list) {
      problems.add(`${name} takes one value (got a list)`);
      return undefined;
    }
    return v.map(scalar).filter((x): x is string => x !== undefined);
  }
  const s = scalar(v);
  if (s === undefined || s === '') return undefined;
  return list ? splitItems(s) : s;
}

export interface ValuesOptions {
  command: CommandName;
  direct: DirectSource;
  env: NodeJS.ProcessEnv;
  file?: ConfigFile | undefined;
  /** The fleet database whose section applies (already checked to exist). */
  database?: string | undefined;
  /** The CLI uses the spec's cliDefault where there is one. */
  surface: 'cli' | 'action';
  problems: Problems;
}

/** The resolved options of one command run. */
export class OptionValues {
  private readonly parsed = new Map<OptionName, unknown>();
  constructor(private readonly o: ValuesOptions) {}

  get problems(): Problems {
    return this.o.problems;
  }

  /** Does this command take the option? */
  takes(name: OptionName): boolean {
    return (COMMAND_OPTIONS[this.o.command] as readonly string[]).includes(name);
  }

  /** Where the option's value comes from, undefined when it has none (no default either). */
  raw(name: OptionName): RawValue | undefined {
    if (!(COMMAND_OPTIONS[this.o.command] as readonly string[]).includes(name)) {
      throw new Error(`bug: ${this.o.command} has no option ${name}`);
    }
    const spec = specOf(name);
    const list = spec.kind === 'list';
    const direct = this.o.direct(name);
    if (direct) return direct;
    const { file, database, command } = this.o;
    const fromSection = (section: Section | undefined, at: string): RawValue | undefined => {
      if (!file || !section || !(name in section)) return undefined;
      const fname = `${file.label}: ${at}${command}.${name}`;
      const raw = fileRaw(section[name], list, fname, this.o.problems);
      return raw === undefined ? undefined : { raw, name: fname, origin: 'file' };
    };
    if (database && !FILE_OPTIONS.includes(name)) {
      const v = fromSection(file?.databases.get(database)?.[command], `databases.${database}.`);
      if (v) return v;
    }
    for (const e of spec.env ?? []) {
      const value = this.o.env[e];
      if (value) return { raw: list ? splitItems(value) : value, name: e, origin: 'env' };
    }
    if (!FILE_OPTIONS.includes(name)) {
      const v = fromSection(file?.sections[command], '');
      if (v) return v;
    }
    const fb = spec.fileFallback;
    if (file && fb) {
      const other = (section: Section | undefined, at: string): RawValue | undefined => {
        if (!section || !(fb.option in section)) return undefined;
        const fname = `${file.label}: ${at}${fb.command}.${fb.option}`;
        const raw = fileRaw(section[fb.option], true, fname, this.o.problems);
        if (!raw?.length) return undefined;
        const items = raw as string[];
        return { raw: fb.first ? items.slice(0, 1) : items, name: fname, origin: 'file' };
      };
      const v =
        (database
          ? other(file.databases.get(database)?.[fb.command], `databases.${database}.`)
          : undefined) ?? other(file.sections[fb.command], '');
      if (v) return v;
    }
    const def = this.o.surface === 'cli' && spec.cliDefault !== undefined ? spec.cliDefault : spec.default;
    if (def === '') return list ? { raw: [], name: this.defaultName(name), origin: 'default' } : undefined;
    return { raw: list ? splitItems(def) : def, name: this.defaultName(name), origin: 'default' };
  }

  private defaultName(name: OptionName): string {
    return this.o.surface === 'cli' ? `--${name}` : name;
  }

  /** How messages name the option: as the user gave it, else as this surface spells it. */
  nameOf(name: OptionName): string {
    return this.raw(name)?.name ?? this.defaultName(name);
  }

  /** Was it set by the user (flag, input, file or environment), not defaulted? */
  given(name: OptionName): boolean {
    const r = this.raw(name);
    return r !== undefined && r.origin !== 'default';
  }

  /**
   * The same run's values as another command reads them (check reads the backup and drill
   * sections): what was given for this command (flag, input, its own section of the file)
   * first, then the other command's sections, environment and defaults.
   */
  derive(command: CommandName): OptionValues {
    const mine = COMMAND_OPTIONS[this.o.command] as readonly string[];
    return new OptionValues({
      ...this.o,
      command,
      direct: (name) => {
        if (!mine.includes(name)) return undefined;
        const r = this.raw(name);
        return r && (r.origin === 'flag' || r.origin === 'input' || r.origin === 'file') ? r : undefined;
      },
    });
  }

  /** The parsed value; undefined when it has none or it is bad (the problem is recorded). */
  get<N extends OptionName>(name: N): ValueOf<N> | undefined {
    if (this.parsed.has(name)) return this.parsed.get(name) as ValueOf<N> | undefined;
    const r = this.raw(name);
    const value = r === undefined ? undefined : specOf(name).parse(r.raw, r.name, this.o.problems);
    this.parsed.set(name, value);
    return value as ValueOf<N> | undefined;
  }
}

/** The databases a run covers: one named, every one (--all), or none (no fleet). */
export function selectDatabases(
  file: ConfigFile | undefined,
  chosen: {
    database?: string | undefined;
    all?: boolean | undefined;
    names: { database: string; all?: string };
  },
  problems: Problems,
): (string | undefined)[] {
  const names = file ? [...file.databases.keys()] : [];
  const { database, all } = chosen;
  if (database !== undefined && all) {
    problems.add(`${chosen.names.database} and ${chosen.names.all} exclude each other`, 'give one');
    return [];
  }
  if (database !== undefined) {
    if (!names.includes(database)) {
      problems.add(
        `${chosen.names.database} "${database}" is not in ${file ? file.label : 'a config file (none found)'}`,
        names.length
          ? `the file names ${names.join(', ')}`
          : 'list the databases under databases: in lms-backup.yml',
      );
      return [];
    }
    return [database];
  }
  if (all) {
    if (!names.length) {
      problems.add(
        `${chosen.names.all}: ${file ? `${file.label} names no databases` : 'no config file found'}`,
        'list the databases under databases: in lms-backup.yml',
      );
      return [];
    }
    return names;
  }
  if (names.length) {
    problems.add(
      `${file!.label} names databases (${names.join(', ')}): choose one`,
      chosen.names.all
        ? `give ${chosen.names.database} NAME, or ${chosen.names.all} for every one`
        : `set the ${chosen.names.database} input (the reusable workflows run one job per database)`,
    );
    return [];
  }
  return [undefined];
}
