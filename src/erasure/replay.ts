/**
 * Replays the erasure ledger into a restored database, in one transaction: every key of every
 * entry is deleted with parameterized SQL (identifiers quoted), so the schema's foreign keys do
 * what they say: ON DELETE CASCADE removes the dependent rows, SET NULL / SET DEFAULT clear them,
 * and NO ACTION / RESTRICT refuse. A refused key is rolled back to its savepoint and reported as a
 * violation, never forced; the rest of the ledger still applies. Deferred constraints are made
 * immediate so a violation shows at its key, not at COMMIT. Then every key is looked up again:
 * "keys still present" is the proof, and must be 0.
 *
 * Messages name entries, tables and constraints, never a key's values (they are personal data).
 */
import type { EntryReplay, ErasureReplay } from '../catalog/types.js';
import type { Logger } from '../log.js';
import { connect, type PgClient, quoteIdent } from '../postgres/client.js';
import type { PgConnection } from '../postgres/connection.js';
import { type ErasureEntry, keyCount } from './ledger.js';

export type { EntryReplay, ErasureReplay } from '../catalog/types.js';

interface TableInfo {
  oid: number;
  qualified: string;
  columns: Map<string, string>;
}

async function tableInfo(client: PgClient, schema: string, name: string): Promise<TableInfo | undefined> {
  const t = await client.query<{ oid: number }>(
    `SELECT c.oid::int AS oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
    [schema, name],
  );
  const oid = t.rows[0]?.oid;
  if (oid === undefined) return undefined;
  const cols = await client.query<{ name: string; type: string }>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
     WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped`,
    [oid],
  );
  return {
    oid,
    qualified: `${quoteIdent(schema)}.${quoteIdent(name)}`,
    columns: new Map(cols.rows.map((r) => [r.name, r.type])),
  };
}

/** Every table a delete in `oid` can cascade into (ON DELETE CASCADE, transitively). */
async function cascadeTargets(client: PgClient, oid: number): Promise<string[]> {
  const r = await client.query<{ t: string }>(
    `WITH RECURSIVE reach(oid) AS (
       SELECT $1::oid
       UNION
       SELECT c.conrelid FROM pg_constraint c JOIN reach ON c.confrelid = reach.oid
       WHERE c.contype = 'f' AND c.confdeltype = 'c'
     )
     SELECT quote_ident(n.nspname) || '.' || quote_ident(k.relname) AS t
     FROM reach JOIN pg_class k ON k.oid = reach.oid JOIN pg_namespace n ON n.oid = k.relnamespace
     WHERE reach.oid <> $1::oid AND k.relkind IN ('r', 'p') ORDER BY 1`,
    [oid],
  );
  return r.rows.map((x) => x.t);
}

async function countRows(client: PgClient, tables: readonly string[]): Promise<number> {
  let n = 0;
  // The names come from quote_ident in the catalog query above.
  for (const t of tables)
    n += Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${t}`)).rows[0]!.n);
  return n;
}

function whereOf(columns: readonly string[]): string {
  return columns.map((c, i) => `${quoteIdent(c)} = $${i + 1}`).join(' AND ');
}

function pgProblem(error: unknown, entry: ErasureEntry, index: number, table: TableInfo): string {
  const e = error as {
    code?: string;
    constraint?: string;
    table?: string;
    schema?: string;
    message?: string;
  };
  const at = `erasure ${entry.id} (${entry.reference}) key #${index + 1} in ${table.qualified}`;
  if (e.code === '23503') {
    return `${at}: refused by foreign key ${e.constraint ?? '?'}${e.table ? ` of ${e.schema ? `${e.schema}.` : ''}${e.table}` : ''} (ON DELETE NO ACTION / RESTRICT): not forced, the row remains; delete or re-point the referencing rows, then restore again`;
  }
  if (e.code === '22P02' || e.code === '22003' || e.code === '22007' || e.code === '22008') {
    return `${at}: a value does not parse as its column's type in this database (${e.code}): not applied`;
  }
  return `${at}: not applied (${e.code ?? 'error'}: ${String(e.message ?? error)
    .split('\n')[0]
    ?.replace(/\(.*\)=\(.*\)/, '(…)')})`;
}

/** Looks every key of `entry` up in `table`; null when that cannot be asked (a key column is missing). */
async function stillPresent(client: PgClient, entry: ErasureEntry, table: TableInfo): Promise<number | null> {
  if (!entry.columns.every((c) => table.columns.has(c))) return null;
  let n = 0;
  const sql = `SELECT EXISTS (SELECT 1 FROM ${table.qualified} WHERE ${whereOf(entry.columns)}) AS present`;
  for (const key of entry.keys) {
    await client.query('SAVEPOINT lms_erasure_check');
    try {
      const r = await client.query<{ present: boolean }>(sql, key);
      if (r.rows[0]?.present) n++;
      await client.query('RELEASE SAVEPOINT lms_erasure_check');
    } catch {
      // A value that does not parse as the column's type cannot be in it.
      await client.query('ROLLBACK TO SAVEPOINT lms_erasure_check');
    }
  }
  return n;
}

/**
 * Applies `entries` (oldest first) to the database `client` is connected to, in one transaction,
 * or with `replay: false` only looks their keys up. Never throws for a refused key: that is a
 * violation in the result. A failure of the transaction itself is thrown.
 */
export async function replayEntries(
  client: PgClient,
  entries: readonly ErasureEntry[],
  opts: { replay: boolean; allOrNothing?: boolean },
): Promise<ErasureReplay> {
  const out: ErasureReplay = {
    replayed: opts.replay,
    entries: entries.length,
    keys: keyCount(entries),
    rowsRemoved: 0,
    cascadedRows: 0,
    keysStillPresent: 0,
    violations: [],
    perEntry: [],
  };
  if (entries.length === 0) return out;
  await client.query('BEGIN');
  try {
    await client.query('SET CONSTRAINTS ALL IMMEDIATE');
    for (const entry of entries) {
      const er: EntryReplay = {
        id: entry.id,
        requestedAt: entry.requestedAt,
        reference: entry.reference,
        table: `${entry.table.schema}.${entry.table.name}`,
        keys: entry.keys.length,
        status: 'applied',
        rowsRemoved: 0,
        cascadedRows: 0,
        stillPresent: 0,
        problems: [],
      };
      out.perEntry.push(er);
      const table = await tableInfo(client, entry.table.schema, entry.table.name);
      if (!table) {
        // A backup from before the table existed holds nothing of it.
        er.status = 'absent';
        continue;
      }
      const missing = entry.columns.filter((c) => !table.columns.has(c));
      if (missing.length) {
        er.status = 'failed';
        er.stillPresent = null;
        er.problems.push(
          `erasure ${entry.id} (${entry.reference}): ${table.qualified} has no column ${missing.map(quoteIdent).join(', ')} in this database: not applied, the keys could not be looked up`,
        );
        out.violations.push(...er.problems);
        continue;
      }
      if (opts.replay) {
        const cascades = await cascadeTargets(client, table.oid);
        const before = await countRows(client, cascades);
        const sql = `DELETE FROM ${table.qualified} WHERE ${whereOf(entry.columns)}`;
        for (const [i, key] of entry.keys.entries()) {
          await client.query('SAVEPOINT lms_erasure');
          try {
            er.rowsRemoved += (await client.query(sql, key)).rowCount ?? 0;
            await client.query('RELEASE SAVEPOINT lms_erasure');
          } catch (error) {
            await client.query('ROLLBACK TO SAVEPOINT lms_erasure');
            er.status = 'failed';
            er.problems.push(pgProblem(error, entry, i, table));
          }
        }
        er.cascadedRows = before - (await countRows(client, cascades));
        out.violations.push(...er.problems);
      }
      er.stillPresent = await stillPresent(client, entry, table);
      out.rowsRemoved += er.rowsRemoved;
      out.cascadedRows += er.cascadedRows;
      out.keysStillPresent += er.stillPresent ?? 0;
    }
    if (opts.allOrNothing && out.violations.length) {
      await client.query('ROLLBACK');
      out.rolledBack = true;
    } else await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
  return out;
}

/** Replays the ledger's entries (or with `replay: false` only checks them) in `target`. */
export async function replayLedger(
  entries: readonly ErasureEntry[],
  target: PgConnection,
  opts: { replay: boolean; logger: Logger },
): Promise<ErasureReplay> {
  const client = await connect(target);
  try {
    const r = await replayEntries(client, entries, opts);
    if (!r.replayed && r.entries > 0) {
      opts.logger.warn(
        `ERASURES NOT REPLAYED (--no-erasures): ${r.entries} ledger entr${r.entries === 1 ? 'y' : 'ies'} skipped; ` +
          `${r.keysStillPresent} erased key(s) are in ${target.database}: it holds personal data that was erased; keep it isolated and drop it when done`,
      );
    } else if (r.entries > 0) {
      opts.logger.info(
        `replayed ${r.entries} erasure(s): ${r.rowsRemoved} row(s) removed, ${r.cascadedRows} more by cascade; ${r.keysStillPresent} erased key(s) still present`,
      );
    }
    return r;
  } finally {
    await client.end();
  }
}

/** Why a replay leaves the restored data unfit to be called complete (empty when it is fine). */
export function erasureReasons(r: ErasureReplay): string[] {
  const out = [...r.violations];
  if (r.keysStillPresent > 0) {
    out.push(
      r.replayed
        ? `${r.keysStillPresent} erased key(s) are still present after replaying the erasure ledger`
        : `${r.keysStillPresent} erased key(s) are present: the erasure ledger was not replayed (--no-erasures)`,
    );
  }
  return out;
}

/** One line for outputs and run records. */
export function describeReplay(r: ErasureReplay): string {
  if (!r.replayed) {
    return `NOT REPLAYED (--no-erasures): ${r.entries} ledger entr${r.entries === 1 ? 'y' : 'ies'} skipped, ${r.keysStillPresent} erased key(s) present`;
  }
  return `${r.entries} replayed, ${r.rowsRemoved} row(s) removed (+${r.cascadedRows} by cascade), ${r.keysStillPresent} erased key(s) still present`;
}
