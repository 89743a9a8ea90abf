/**
 * `forget`: records an erasure request in the ledger of every destination, after checking its keys.
 *
 * Where the keys are checked: against the live database when one is reachable (the table, each key
 * column, and each value parsed as that column's type by PostgreSQL itself); otherwise against the
 * newest complete backup's manifest inventory, which lists tables but not columns, so only the
 * table is checked there and the columns and types are checked when a restore replays the entry
 * (a key that cannot apply is reported there, never silently dropped). `--apply` needs the live
 * database: it deletes there too, in one transaction, after the entry is stored (an erasure that
 * reached the live database but not the ledger would come back with the next restore).
 */
import { readFileSync } from 'node:fs';
import { listBackups } from '../catalog/catalog.js';
import type { EncryptionConfig } from '../commands/backup.js';
import { ConfigError, JobFailedError } from '../errors.js';
import type { Logger } from '../log.js';
import { connect, type PgClient } from '../postgres/client.js';
import { describeConnection, type PgConnection } from '../postgres/connection.js';
import type { Storage } from '../storage/types.js';
import { ERASURE_FORMAT, type ErasureEntry, newErasureId, writeLedgerEntry } from './ledger.js';
import { type ErasureReplay, replayEntries } from './replay.js';

export interface ForgetConfig {
  destinations: Storage[];
  encryption: EncryptionConfig;
  /** "schema.table" or "table" (schema public). */
  table: string;
  /** `col=value`, several columns of one key joined by ";". */
  keys: string[];
  /** A CSV file: a header row naming the key columns, then one row per key. */
  keysFile?: string;
  reference: string;
  /** Delete in the live database too. */
  apply: boolean;
  /** The live database (to check the keys against, and for `apply`). */
  database?: PgConnection;
  now?: Date;
}

export interface ForgetResult {
  id: string;
  requestedAt: string;
  reference: string;
  table: string;
  columns: string[];
  keys: number;
  validatedAgainst: string;
  stored: { destination: string; key: string }[];
  /** The live database's deletion, when `apply` was asked. */
  applied?: { database: string; replay: ErasureReplay };
  warnings: string[];
}

/** A bad erasure request: nothing was written (exit 2). */
export class ForgetRefusedError extends ConfigError {}

export function parseTableName(name: string): { schema: string; name: string } {
  const t = name.trim();
  const quoted = /^"((?:[^"]|"")+)"\."((?:[^"]|"")+)"$/.exec(t);
  if (quoted) return { schema: quoted[1]!.replace(/""/g, '"'), name: quoted[2]!.replace(/""/g, '"') };
  const parts = t.split('.');
  if (t === '' || parts.length > 2 || parts.some((p) => p === '')) {
    throw new ForgetRefusedError(`--table "${name}" is not a table name`, {
      hint: 'give schema.table, e.g. --table public.users',
    });
  }
  return parts.length === 2 ? { schema: parts[0]!, name: parts[1]! } : { schema: 'public', name: parts[0]! };
}

/** Minimal RFC 4180 CSV: quoted fields, doubled quotes, CRLF or LF. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const s = text.replace(/^\uFEFF/, '');
  while (i < s.length) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') quoted = false;
      else field += c;
      i++;
      continue;
    }
    if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && s[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
    i++;
  }
  if (quoted) throw new ForgetRefusedError('the keys file has an unterminated quoted field');
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => !(r.length === 1 && r[0] === ''));
}

/** The key columns and values from --key and the keys file; every key names the same columns. */
export function parseKeys(
  keys: readonly string[],
  keysFile?: string,
): { columns: string[]; values: string[][] } {
  let columns: string[] | undefined;
  const values: string[][] = [];
  const same = (cols: string[], where: string) => {
    if (!columns) columns = cols;
    else if (cols.join('\u0000') !== columns.join('\u0000')) {
      throw new ForgetRefusedError(
        `${where} names the columns ${cols.join(', ')}; the other keys name ${columns.join(', ')}`,
        { hint: 'one erasure request names one set of key columns: split it into several forget runs' },
      );
    }
  };
  for (const k of keys) {
    const pairs = k.split(';').map((p) => p.trim());
    const cols: string[] = [];
    const vals: string[] = [];
    for (const p of pairs) {
      const eq = p.indexOf('=');
      if (eq <= 0) {
        throw new ForgetRefusedError(`--key "${k}" is not column=value`, {
          hint: 'e.g. --key id=42, or --key "org_id=1;user_id=7" for a key of two columns; values with commas go in a --keys-file CSV',
        });
      }
      cols.push(p.slice(0, eq).trim());
      vals.push(p.slice(eq + 1).trim());
    }
    same(cols, `--key "${cols.join(';')}=…"`);
    values.push(vals);
  }
  if (keysFile) {
    let text: string;
    try {
      text = readFileSync(keysFile, 'utf8');
    } catch (error) {
      throw new ForgetRefusedError(
        `--keys-file: cannot read ${keysFile} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
        { hint: 'give a CSV file: a header row naming the key columns, then one row per key' },
      );
    }
    const rows = parseCsv(text);
    const [header, ...body] = rows;
    if (!header || header.some((h) => h.trim() === '') || body.length === 0) {
      throw new ForgetRefusedError(`--keys-file ${keysFile} holds no keys`, {
        hint: 'a header row naming the key columns (e.g. id), then one row per key',
      });
    }
    same(
      header.map((h) => h.trim()),
      `--keys-file ${keysFile}`,
    );
    for (const [i, r] of body.entries()) {
      if (r.length !== header.length) {
        throw new ForgetRefusedError(
          `--keys-file ${keysFile} line ${i + 2} has ${r.length} field(s); the header has ${header.length}`,
        );
      }
      values.push(r);
    }
  }
  if (!columns || values.length === 0) {
    throw new ForgetRefusedError('no key to erase', {
      hint: 'give --key column=value (repeatable) or --keys-file keys.csv',
    });
  }
  return { columns, values };
}

/** Checks the table, columns and every value against a live database; the problems found. */
async function checkLive(
  client: PgClient,
  table: { schema: string; name: string },
  columns: readonly string[],
  values: readonly string[][],
): Promise<string[]> {
  const t = await client.query<{ oid: number }>(
    `SELECT c.oid::int AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
    [table.schema, table.name],
  );
  const qualified = `${table.schema}.${table.name}`;
  if (!t.rows[0]) return [`the table ${qualified} is not in the database`];
  const cols = await client.query<{ name: string; type: string }>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
     WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped`,
    [t.rows[0].oid],
  );
  const types = new Map(cols.rows.map((r) => [r.name, r.type]));
  const problems: string[] = [];
  const missing = columns.filter((c) => !types.has(c));
  if (missing.length) {
    return [`${qualified} has no column ${missing.join(', ')} (it has ${[...types.keys()].join(', ')})`];
  }
  for (const [ci, c] of columns.entries()) {
    // The type's name comes from format_type, so it is valid SQL; the value is a parameter.
    const type = types.get(c)!;
    for (const [ki, row] of values.entries()) {
      try {
        await client.query(`SELECT CAST($1::text AS ${type})`, [row[ci]]);
      } catch {
        problems.push(`key #${ki + 1}: its value for ${c} does not parse as ${type}`);
      }
    }
  }
  return problems;
}

export async function runForget(config: ForgetConfig, deps: { logger: Logger }): Promise<ForgetResult> {
  const { logger } = deps;
  const now = config.now ?? new Date();
  const warnings: string[] = [];
  const table = parseTableName(config.table);
  const qualified = `${table.schema}.${table.name}`;
  const reference = config.reference.trim();
  if (!reference) {
    throw new ForgetRefusedError('an erasure needs a reference (--reference)', {
      hint: "give the request's ticket id, e.g. --reference GDPR-2024-017: the ledger records why it erased",
    });
  }
  const { columns, values } = parseKeys(config.keys, config.keysFile);
  if (config.destinations.length === 0) {
    throw new ForgetRefusedError('no destination to record the erasure in', { hint: 'give --destinations' });
  }

  let client: PgClient | undefined;
  if (config.database) {
    try {
      client = await connect(config.database, { timeoutMs: 10_000 });
    } catch (error) {
      if (config.apply) throw error;
      const w = `the database ${describeConnection(config.database)} does not answer (${error instanceof Error ? error.message.split('\n')[0] : String(error)}): the keys are checked against the newest backup's manifest instead`;
      logger.warn(w);
      warnings.push(w);
    }
  } else if (config.apply) {
    throw new ForgetRefusedError('--apply needs the live database', {
      hint: 'give --database-url (or the PG* variables), or leave --apply out to record the erasure only',
    });
  }
  let validatedAgainst: string;
  try {
    let problems: string[];
    if (client) {
      problems = await checkLive(client, table, columns, values);
      validatedAgainst = `database ${describeConnection(config.database!)}`;
    } else {
      const entries = await listBackups(config.destinations[0]!);
      const newest = entries.find((e) => e.state === 'complete');
      if (!newest?.manifest) {
        throw new ForgetRefusedError(
          `nothing to check the keys against: no database was given and ${config.destinations[0]!.display} holds no complete backup`,
          { hint: 'give --database-url so the table, columns and values can be checked' },
        );
      }
      const inv = newest.manifest.inventory.tables;
      problems = inv.some((t) => t.schema === table.schema && t.name === table.name)
        ? []
        : [`the table ${qualified} is not in the newest backup ${newest.id}`];
      validatedAgainst = `manifest of ${newest.id} (the table only: columns and types are checked when a restore replays the entry)`;
    }
    if (problems.length) {
      throw new ForgetRefusedError(
        `refusing the erasure of ${values.length} key(s) in ${qualified}: ${problems.slice(0, 10).join('; ')}${problems.length > 10 ? `; and ${problems.length - 10} more` : ''}; nothing was written`,
        { hint: 'check --table and the key columns and values against the database' },
      );
    }
    const entry: ErasureEntry = {
      format: ERASURE_FORMAT,
      id: newErasureId(now),
      requestedAt: now.toISOString(),
      reference,
      table,
      columns,
      keys: values,
      validatedAgainst,
    };
    const stored = await writeLedgerEntry(config.destinations, entry, config.encryption, logger);
    const result: ForgetResult = {
      id: entry.id,
      requestedAt: entry.requestedAt,
      reference,
      table: qualified,
      columns,
      keys: values.length,
      validatedAgainst,
      stored,
      warnings,
    };
    if (config.apply && client) {
      const replay = await replayEntries(client, [entry], { replay: true, allOrNothing: true });
      result.applied = { database: describeConnection(config.database!), replay };
      if (replay.violations.length || replay.keysStillPresent > 0) {
        throw new JobFailedError(
          `the erasure ${entry.id} is recorded in the ledger, but the live database refused it (nothing was deleted there: one transaction): ${replay.violations.join('; ')}`,
          {
            hint: 'delete or re-point the referencing rows, then run forget --apply again or delete the rows by hand (the ledger entry stands and every restore replays it)',
          },
        );
      }
      logger.info(
        `applied in ${result.applied.database}: ${replay.rowsRemoved} row(s) removed, ${replay.cascadedRows} more by cascade`,
      );
    }
    return result;
  } finally {
    await client?.end();
  }
}
