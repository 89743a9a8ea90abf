/**
 * Shared parsing from raw strings (CLI flags, action inputs, environment) to the typed
 * configuration the commands take. Every problem is collected and reported once, together.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EncryptionConfig } from './commands/backup.js';
import { parseIdentities, parseRecipient } from './crypto/age.js';
import { ConfigError, ConfigErrors } from './errors.js';
import { probeDirectory } from './files.js';
import type { Logger } from './log.js';
import { directoryExists, fsWatchFor } from './storage/fs-watch.js';
import { openStorage } from './storage/index.js';
import type { Storage } from './storage/types.js';

export class Problems {
  readonly list: ConfigError[] = [];
  add(message: string, hint?: string): void {
    this.list.push(new ConfigError(message, hint ? { hint } : {}));
  }
  /** Runs a parser; a ConfigError it throws is collected, and undefined returned. */
  try<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (error) {
      if (error instanceof ConfigErrors) this.list.push(...error.problems);
      else if (error instanceof ConfigError) this.list.push(error);
      else throw error;
      return undefined;
    }
  }
  async tryAsync<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof ConfigErrors) this.list.push(...error.problems);
      else if (error instanceof ConfigError) this.list.push(error);
      else throw error;
      return undefined;
    }
  }
  throwIfAny(): void {
    if (this.list.length) throw new ConfigErrors(this.list);
  }
}

export interface EncryptionInput {
  recipients: string[];
  recipientsFile?: string | undefined;
  passphrase?: string | undefined;
  noEncryption: boolean;
  /** How the user names these settings (flags or inputs), for messages. */
  names: { recipients: string; recipientsFile: string; passphrase: string; noEncryption: string };
}

/** Encryption is on unless explicitly opted out; with no key and no opt-out, refuse. */
export function resolveEncryption(input: EncryptionInput, problems: Problems): EncryptionConfig | undefined {
  const { names } = input;
  const recipients: string[] = [];
  for (const r of input.recipients.flatMap(splitList)) {
    const ok = problems.try(() => parseRecipient(r));
    if (ok !== undefined) recipients.push(r);
  }
  if (input.recipientsFile) {
    let text: string | undefined;
    try {
      text = readFileSync(input.recipientsFile, 'utf8');
    } catch (error) {
      problems.add(
        `${names.recipientsFile}: cannot read ${input.recipientsFile} (${(error as NodeJS.ErrnoException).code ?? error})`,
        'give the path of a file with one age1… recipient per line',
      );
    }
    for (const line of (text ?? '').split('\n').map((l) => l.trim())) {
      if (!line || line.startsWith('#')) continue;
      if (problems.try(() => parseRecipient(line)) !== undefined) recipients.push(line);
    }
  }
  const hasKey = recipients.length > 0 || Boolean(input.passphrase);
  if (input.noEncryption) {
    if (hasKey) {
      problems.add(
        `${names.noEncryption} conflicts with ${recipients.length ? names.recipients : names.passphrase}`,
        'choose one: encrypt with the key, or turn encryption off',
      );
      return undefined;
    }
    return { mode: 'none' };
  }
  if (recipients.length > 0 && input.passphrase) {
    problems.add(
      `both ${names.recipients} and ${names.passphrase} are set; age allows one or the other`,
      'use public-key recipients (recommended) or a passphrase, not both',
    );
    return undefined;
  }
  if (!hasKey) {
    problems.add(
      `no encryption key: set ${names.recipients} (an age1… public key) or ${names.passphrase}`,
      `make a key pair with "lms-backup keygen" and keep the identity safe, or set ${names.noEncryption} to store plaintext dumps`,
    );
    return undefined;
  }
  return input.passphrase
    ? { mode: 'age', recipients: [], passphrase: input.passphrase }
    : { mode: 'age', recipients };
}

export interface DecryptionInput {
  identityFile?: string | undefined;
  /** Identity text (AGE-SECRET-KEY-1…), e.g. from an environment variable or a secret. */
  identity?: string | undefined;
  passphrase?: string | undefined;
}

export interface DecryptionKeys {
  identities: string[];
  passphrase?: string;
}

export function resolveDecryption(
  input: DecryptionInput,
  problems: Problems,
  names: { identityFile: string; identity: string },
): DecryptionKeys {
  const identities: string[] = [];
  if (input.identityFile) {
    try {
      identities.push(
        ...parseIdentities(
          readFileSync(input.identityFile, 'utf8'),
          `${names.identityFile} ${input.identityFile}`,
        ),
      );
    } catch (error) {
      if (error instanceof ConfigError) problems.list.push(error);
      else
        problems.add(
          `${names.identityFile}: cannot read ${input.identityFile} (${(error as NodeJS.ErrnoException).code ?? error})`,
          'give the path of an age identity file (as written by "lms-backup keygen" or age-keygen)',
        );
    }
  }
  if (input.identity) {
    const ids = problems.try(() => parseIdentities(input.identity!, names.identity));
    if (ids) identities.push(...ids);
  }
  return input.passphrase ? { identities, passphrase: input.passphrase } : { identities };
}

export function splitList(value: string): string[] {
  return value
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export async function openDestinations(
  urls: string[],
  problems: Problems,
  options: { env?: NodeJS.ProcessEnv; logger?: Logger; inputName: string },
): Promise<Storage[]> {
  const out: Storage[] = [];
  for (const url of urls) {
    const s = await problems.tryAsync(() =>
      openStorage(url, {
        ...(options.env ? { env: options.env } : {}),
        ...(options.logger ? { logger: options.logger } : {}),
      }),
    );
    if (s) out.push(s);
  }
  if (urls.length === 0)
    problems.add(`${options.inputName}: no destination given`, 'give a path or a storage URL');
  return out;
}

export function parsePositiveInt(
  value: string,
  name: string,
  problems: Problems,
  min = 1,
): number | undefined {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    problems.add(`${name} must be a whole number >= ${min} (got "${value}")`);
    return undefined;
  }
  return n;
}

/** Durations like 24h, 4h, 90m, 30s, 7d, or plain seconds. */
export function parseDuration(value: string, name: string, problems: Problems): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$/.exec(value.trim());
  if (!m) {
    problems.add(`${name} "${value}" is not a duration`, 'use e.g. 30m, 4h, 24h or 7d');
    return undefined;
  }
  const mult = { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * mult;
}

export function parseTime(value: string, name: string, problems: Problems): Date | undefined {
  const d = new Date(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$/.test(value) ? value.replace('Z', ':00Z') : value);
  if (Number.isNaN(d.getTime())) {
    problems.add(`${name} "${value}" is not a time`, 'use ISO 8601, e.g. 2024-01-15T03:00Z');
    return undefined;
  }
  return d;
}

/**
 * Commands that read backups (list, prune, drill, verify, restore, report) refuse a local
 * destination that does not exist, instead of reporting "no backups" or creating it.
 */
export async function requireExistingDestinations(
  storages: readonly Storage[],
  inputName: string,
  problems: Problems,
): Promise<void> {
  for (const s of storages) {
    if (s.kind !== 'local') continue;
    // A mount that stopped answering throws its own error: it is not a wrong setting.
    if (!(await directoryExists(s.display))) {
      problems.add(
        `${inputName} ${s.display} does not exist (or is not a directory)`,
        `give the directory the backups were written to (the --to of "lms-backup backup"); nothing was created`,
      );
    }
  }
}

/**
 * Proves each local destination's db/ directory can be created before anything connects to a
 * database (leaving nothing behind), so an unwritable, read-only or impossible path (/proc/x)
 * fails at once, naming the path and the fix.
 */
export async function prepareLocalDestinations(
  storages: readonly Storage[],
  inputName: string,
): Promise<void> {
  const problems = new Problems();
  for (const s of storages) {
    if (s.kind !== 'local') continue;
    const watch = fsWatchFor(s.display);
    // A mount that stopped answering is no setting to fix: its error ends the run as it is.
    await problems.tryAsync(() =>
      probeDirectory(
        join(s.display, 'db'),
        `${inputName} ${s.display}:`,
        `give ${inputName} a directory this user can create and write, on a writable file system`,
        watch.calls('put'),
      ),
    );
  }
  problems.throwIfAny();
}
