import { createHash } from 'node:crypto';
import type pg from 'pg';
import type {
  ExtensionInventory,
  Inventory,
  LargeObjectInventory,
  MaterializedViewInventory,
  PartitionedInventory,
  RelationInventory,
  RoleReference,
  SequenceInventory,
  TableInventory,
} from '../catalog/types.js';
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

/**
 * Keeps the counts of this transaction cheap for a server that dumps at the same time: no
 * parallel workers (on a small runner they take the cores pg_dump's COPY and its compression
 * need; the counts, cheaper than the COPY, end before the dump either way) and no JIT
 * (compiling a large table's count costs more CPU than it saves). For the transaction only
 * (SET LOCAL); `jit` exists from PostgreSQL 11.
 */
export async function countBesideDump(client: pg.Client, serverVersionNum: number): Promise<void> {
  await client.query('SET LOCAL max_parallel_workers_per_gather = 0');
  if (serverVersionNum >= 110000) await client.query('SET LOCAL jit = off');
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

const USER_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'`;

/** Not created by an extension (pg_dump leaves those to CREATE EXTENSION). */
const NOT_EXTENSION = (classid: string, col: string) => `NOT EXISTS (
    SELECT 1 FROM pg_depend d
    WHERE d.classid = '${classid}'::regclass AND d.objid = ${col} AND d.deptype = 'e')`;

function sha(lines: string[]): string {
  const h = createHash('sha256');
  for (const l of [...lines].sort()) h.update(`${l}\n`);
  return h.digest('hex');
}

/**
 * Owner, ACL digest, row-level security and policies of every relation pg_dump writes. The ACL
 * is compared as its sorted (grantee, privilege, grantable) set, table and column privileges
 * together: grantors and OIDs differ after a restore, the order of ACL items is not meaningful,
 * and no ACL is the same as one equal to the owner's default.
 */
export async function listRelations(client: pg.Client): Promise<RelationInventory[]> {
  const r = await client.query<{
    schema: string;
    name: string;
    kind: string;
    owner: string;
    acl: string[] | null;
    rls: boolean;
    force: boolean;
    policies: string[] | null;
  }>(`
    SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS kind,
           pg_get_userbyid(c.relowner) AS owner, c.relrowsecurity AS rls, c.relforcerowsecurity AS force,
           (SELECT array_agg(coalesce(nullif(a.grantee, 0)::regrole::text, 'PUBLIC') || ':' ||
                             a.privilege_type || ':' || a.is_grantable)
            FROM aclexplode(coalesce(c.relacl, acldefault(
              CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) a
            -- PostgreSQL 17 gives owners MAINTAIN by default: the same grants across majors.
            WHERE NOT (a.grantee = c.relowner AND a.privilege_type = 'MAINTAIN')) ||
           coalesce((SELECT array_agg('column ' || at.attname || ':' ||
                                      coalesce(nullif(a.grantee, 0)::regrole::text, 'PUBLIC') || ':' ||
                                      a.privilege_type || ':' || a.is_grantable)
                     FROM pg_attribute at, aclexplode(at.attacl) a
                     WHERE at.attrelid = c.oid AND at.attacl IS NOT NULL), '{}') AS acl,
           (SELECT array_agg(p.polname || '|' || p.polcmd::text || '|' || p.polpermissive::text || '|' ||
                     coalesce((SELECT string_agg(CASE WHEN x = 0 THEN 'PUBLIC' ELSE x::regrole::text END, ','
                                                 ORDER BY CASE WHEN x = 0 THEN 'PUBLIC' ELSE x::regrole::text END)
                               FROM unnest(p.polroles) x), '') || '|' ||
                     coalesce(pg_get_expr(p.polqual, p.polrelid), '') || '|' ||
                     coalesce(pg_get_expr(p.polwithcheck, p.polrelid), ''))
            FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ${USER_SCHEMA}
      AND ${NOT_EXTENSION('pg_class', 'c.oid')}
    ORDER BY 1, 2`);
  return r.rows.map((x) => ({
    schema: x.schema,
    name: x.name,
    kind: x.kind,
    owner: x.owner,
    aclDigest: sha(x.acl ?? []),
    rowSecurity: x.rls,
    forceRowSecurity: x.force,
    policies: x.policies?.length ?? 0,
    policiesDigest: sha(x.policies ?? []),
  }));
}

export async function listSchemas(
  client: pg.Client,
): Promise<{ name: string; owner: string; aclDigest: string }[]> {
  const r = await client.query<{ name: string; owner: string; acl: string[] | null }>(`
    SELECT n.nspname AS name, pg_get_userbyid(n.nspowner) AS owner,
           (SELECT array_agg(coalesce(nullif(a.grantee, 0)::regrole::text, 'PUBLIC') || ':' ||
                             a.privilege_type || ':' || a.is_grantable)
            FROM aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a) AS acl
    FROM pg_namespace n
    WHERE ${USER_SCHEMA} AND ${NOT_EXTENSION('pg_namespace', 'n.oid')}
    ORDER BY 1`);
  return r.rows.map((x) => ({ name: x.name, owner: x.owner, aclDigest: sha(x.acl ?? []) }));
}

export async function listMaterializedViews(client: pg.Client): Promise<MaterializedViewInventory[]> {
  const r = await client.query<{ schema: string; name: string; populated: boolean }>(`
    SELECT n.nspname AS schema, c.relname AS name, c.relispopulated AS populated
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'm' AND ${USER_SCHEMA} AND ${NOT_EXTENSION('pg_class', 'c.oid')}
    ORDER BY 1, 2`);
  const out: MaterializedViewInventory[] = [];
  for (const m of r.rows) {
    out.push({ ...m, rows: m.populated ? await countRows(client, m.schema, m.name) : null });
  }
  return out;
}

export async function listSequences(client: pg.Client): Promise<SequenceInventory[]> {
  const r = await client.query<{ schema: string; name: string }>(`
    SELECT n.nspname AS schema, c.relname AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'S' AND ${USER_SCHEMA} AND ${NOT_EXTENSION('pg_class', 'c.oid')}
    ORDER BY 1, 2`);
  const out: SequenceInventory[] = [];
  for (const s of r.rows) {
    const v = await client.query<{ last_value: string; is_called: boolean }>(
      `SELECT last_value::text, is_called FROM ${quoteIdent(s.schema)}.${quoteIdent(s.name)}`,
    );
    out.push({ ...s, lastValue: v.rows[0]!.last_value, isCalled: v.rows[0]!.is_called });
  }
  return out;
}

export async function listPartitioned(client: pg.Client): Promise<PartitionedInventory[]> {
  const r = await client.query<{ schema: string; name: string; leaves: { schema: string; name: string }[] }>(`
    SELECT n.nspname AS schema, c.relname AS name,
           coalesce((SELECT json_agg(json_build_object('schema', ln.nspname, 'name', lc.relname)
                                     ORDER BY ln.nspname, lc.relname)
                     FROM pg_partition_tree(c.oid) t
                     JOIN pg_class lc ON lc.oid = t.relid
                     JOIN pg_namespace ln ON ln.oid = lc.relnamespace
                     WHERE t.isleaf), '[]'::json) AS leaves
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'p' AND NOT c.relispartition AND ${USER_SCHEMA}
    ORDER BY 1, 2`);
  const out: PartitionedInventory[] = [];
  for (const p of r.rows) out.push({ ...p, rows: await countRows(client, p.schema, p.name) });
  return out;
}

/** Count, total bytes and a digest of (oid, owner, md5) of every large object. */
export async function largeObjects(client: pg.Client): Promise<LargeObjectInventory> {
  const r = await client.query<{ oid: string; owner: string; bytes: string; md5: string }>(`
    SELECT m.oid::text AS oid, pg_get_userbyid(m.lomowner) AS owner,
           length(lo_get(m.oid))::text AS bytes, md5(lo_get(m.oid)) AS md5
    FROM pg_largeobject_metadata m ORDER BY m.oid`);
  return {
    count: r.rows.length,
    bytes: r.rows.reduce((s, x) => s + Number(x.bytes), 0),
    digest: sha(r.rows.map((x) => `${x.oid}:${x.owner}:${x.md5}`)),
  };
}

/**
 * Roles the database refers to: owners of its objects, grantees in its ACLs, roles in its
 * policies. A restore that keeps owners and privileges needs each of them to exist.
 */
export async function referencedRoles(client: pg.Client): Promise<RoleReference[]> {
  const r = await client.query<{ name: string; use: 'owner' | 'grantee' | 'policy' }>(`
    WITH owners AS (
      SELECT c.relowner AS r FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${USER_SCHEMA}
      UNION SELECT n.nspowner FROM pg_namespace n WHERE ${USER_SCHEMA} AND n.nspname <> 'public'
      UNION SELECT p.proowner FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_SCHEMA}
      UNION SELECT t.typowner FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE ${USER_SCHEMA}
      UNION SELECT m.lomowner FROM pg_largeobject_metadata m
    ), grantees AS (
      SELECT (aclexplode(c.relacl)).grantee AS r FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relacl IS NOT NULL AND ${USER_SCHEMA}
      UNION SELECT (aclexplode(n.nspacl)).grantee FROM pg_namespace n WHERE n.nspacl IS NOT NULL AND ${USER_SCHEMA}
      UNION SELECT (aclexplode(p.proacl)).grantee FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.proacl IS NOT NULL AND ${USER_SCHEMA}
      UNION SELECT (aclexplode(t.typacl)).grantee FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE t.typacl IS NOT NULL AND ${USER_SCHEMA}
      UNION SELECT (aclexplode(m.lomacl)).grantee FROM pg_largeobject_metadata m WHERE m.lomacl IS NOT NULL
      UNION SELECT (aclexplode(a.attacl)).grantee FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE a.attacl IS NOT NULL AND ${USER_SCHEMA}
      UNION SELECT (aclexplode(d.defaclacl)).grantee FROM pg_default_acl d
      UNION SELECT d.defaclrole FROM pg_default_acl d
    ), policies AS (
      SELECT unnest(p.polroles) AS r FROM pg_policy p
    )
    SELECT pg_get_userbyid(r) AS name, 'owner' AS use FROM owners WHERE r <> 0
    UNION SELECT pg_get_userbyid(r), 'grantee' FROM grantees WHERE r <> 0
    UNION SELECT pg_get_userbyid(r), 'policy' FROM policies WHERE r <> 0
    ORDER BY 1, 2`);
  const byName = new Map<string, RoleReference>();
  for (const x of r.rows) {
    if (x.name.startsWith('pg_')) continue;
    const ref = byName.get(x.name) ?? { name: x.name, uses: [] };
    ref.uses.push(x.use);
    byName.set(x.name, ref);
  }
  return [...byName.values()];
}

/**
 * Exact inventory of the database as the client's current snapshot sees it. Run inside the
 * transaction whose snapshot pg_dump uses, and the counts describe exactly what was dumped.
 */
export async function takeInventory(
  client: pg.Client,
  /** Sequences read beforehand (a backup reads them just before pg_dump starts: see backup.ts). */
  options: { sequences?: SequenceInventory[] } = {},
): Promise<Inventory> {
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
    relations: await listRelations(client),
    schemas: await listSchemas(client),
    materializedViews: await listMaterializedViews(client),
    sequences: options.sequences ?? (await listSequences(client)),
    partitioned: await listPartitioned(client),
    largeObjects: await largeObjects(client),
    roles: await referencedRoles(client),
  };
}
