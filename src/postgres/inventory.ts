import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { ExtensionInventory, Inventory, TableInventory } from '../catalog/types.js';
import { quoteIdent } from './client.js';

/**
 * Tables whose data pg_dump writes: ordinary tables and leaf partitions outside the system
 * schemas, minus tables that belong to an extension (pg_dump leaves their data out).
 */
const TABLES_SQL = `
SELECT n.nspname AS schema, c.relname AS name
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
  AND NOT EXISTS (
    SELECT 1 FROM pg_depend d
    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 1, 2`;

const COLUMNS_SQL = `
SELECT n.nspname AS schema, c.relname AS name, a.attname AS column,
       format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'
ORDER BY 1, 2, 3`;

/** Tables (schema + name) that hold dumped data, sorted. */
export async function listTables(client: pg.Client): Promise<{ schema: string; name: string }[]> {
  return (await client.query<{ schema: string; name: string }>(TABLES_SQL)).rows;
}

export async function countRows(client: pg.Client, schema: string, name: string): Promise<number> {
  const r = await client.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${quoteIdent(schema)}.${quoteIdent(name)}`,
  );
  return Number(r.rows[0]!.n);
}

export async function listExtensions(client: pg.Client): Promise<ExtensionInventory[]> {
  const r = await client.query<ExtensionInventory>(
    'SELECT extname AS name, extversion AS version FROM pg_extension ORDER BY extname',
  );
  return r.rows;
}

/** SHA-256 over every column's (schema, relation, column, type, not-null), sorted. */
export async function schemaFingerprint(client: pg.Client): Promise<string> {
  const r = await client.query<{
    schema: string;
    name: string;
    column: string;
    type: string;
    notnull: boolean;
  }>(COLUMNS_SQL);
  const h = createHash('sha256');
  for (const c of r.rows) h.update(`${c.schema}\t${c.name}\t${c.column}\t${c.type}\t${c.notnull ? 1 : 0}\n`);
  return h.digest('hex');
}

/**
 * Exact inventory of the database as the client's current snapshot sees it. Run inside the
 * transaction whose snapshot pg_dump uses, and the counts describe exactly what was dumped.
 */
export async function takeInventory(client: pg.Client): Promise<Inventory> {
  const tables: TableInventory[] = [];
  for (const t of await listTables(client)) {
    tables.push({ schema: t.schema, name: t.name, rows: await countRows(client, t.schema, t.name) });
  }
  const extensions = await listExtensions(client);
  return {
    tables,
    extensions,
    schemaFingerprint: await schemaFingerprint(client),
    tableCount: tables.length,
    totalRows: tables.reduce((s, t) => s + t.rows, 0),
  };
}
