import { readFileSync } from 'node:fs';
import type pg from 'pg';
import type {
  HealthCheckResult,
  Inventory,
  LargeObjectInventory,
  MaterializedViewInventory,
  ObjectCheck,
  RelationInventory,
  SequenceInventory,
  TableCheck,
} from '../catalog/types.js';
import { ConfigError } from '../errors.js';
import {
  countRows,
  largeObjects,
  listExtensions,
  listMaterializedViews,
  listPartitioned,
  listRelations,
  listSchemas,
  listSequences,
  listTables,
  schemaFingerprint,
} from './inventory.js';

/** A user's health check: SQL whose first column of the first row is compared with `expected`. */
export interface HealthCheck {
  name: string;
  sql: string;
  /** "42", "true", or with an operator: ">= 100", "> 0", "!= 0", "<= 5", "= x". */
  expected: string;
}

/**
 * Reads checks from a JSON file: `[{ "name", "sql", "expected" }]` or `{ "checks": [...] }`.
 * `expected` may be a string, number or boolean.
 */
export function loadHealthChecks(path: string, inputName = 'checks file'): HealthCheck[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${inputName} ${path} cannot be read as JSON: ${(error as Error).message}`, {
      hint: 'write a JSON array of {"name", "sql", "expected"} objects',
    });
  }
  const list = Array.isArray(raw) ? raw : (raw as { checks?: unknown })?.checks;
  if (!Array.isArray(list)) {
    throw new ConfigError(`${inputName} ${path} must hold an array of checks (or {"checks": [...]})`, {
      hint: 'e.g. [{"name": "admins exist", "sql": "SELECT count(*) FROM users WHERE role = \'admin\'", "expected": ">= 1"}]',
    });
  }
  return list.map((c, i) => {
    const o = c as Record<string, unknown>;
    const expected = o.expected;
    if (
      typeof o.name !== 'string' ||
      typeof o.sql !== 'string' ||
      !['string', 'number', 'boolean'].includes(typeof expected)
    ) {
      throw new ConfigError(
        `${inputName} ${path}: check #${i + 1} needs "name" and "sql" strings and an "expected" value`,
      );
    }
    return { name: o.name, sql: o.sql, expected: String(expected) };
  });
}

export function compareExpected(actual: string | null, expected: string): boolean {
  const m = /^(>=|<=|!=|=|>|<)\s*(.*)$/.exec(expected.trim());
  const op = m ? m[1]! : '=';
  const want = m ? m[2]! : expected;
  if (actual === null) return op === '=' && (want === 'null' || want === '');
  const a = Number(actual);
  const b = Number(want);
  const numeric = actual.trim() !== '' && want.trim() !== '' && !Number.isNaN(a) && !Number.isNaN(b);
  switch (op) {
    case '=':
      return numeric ? a === b : actual === want;
    case '!=':
      return numeric ? a !== b : actual !== want;
    case '>':
      return numeric && a > b;
    case '>=':
      return numeric && a >= b;
    case '<':
      return numeric && a < b;
    case '<=':
      return numeric && a <= b;
    default:
      return false;
  }
}

export async function runHealthChecks(
  client: pg.Client,
  checks: HealthCheck[],
): Promise<HealthCheckResult[]> {
  const out: HealthCheckResult[] = [];
  for (const check of checks) {
    try {
      await client.query('BEGIN READ ONLY');
      const r = await client.query({ text: check.sql, rowMode: 'array' });
      await client.query('ROLLBACK');
      const row = r.rows[0] as unknown[] | undefined;
      const value = row?.[0];
      const actual =
        value === null || value === undefined
          ? null
          : value instanceof Date
            ? value.toISOString()
            : String(value);
      out.push({
        name: check.name,
        sql: check.sql,
        expected: check.expected,
        actual,
        ok: compareExpected(actual, check.expected),
      });
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      out.push({
        name: check.name,
        sql: check.sql,
        expected: check.expected,
        actual: null,
        ok: false,
        error: (error as Error).message,
      });
    }
  }
  return out;
}

export interface Validation {
  tableCount: { min: number; found: number; ok: boolean };
  tables: TableCheck[];
  extensions: { name: string; expected: string; found: string | null; ok: boolean }[];
  checks: HealthCheckResult[];
  reasons: string[];
}

/**
 * A drill's checks 4-6 (docs/architecture.md): at least `minTables` tables, every manifest table present with exactly
 * the manifest's row count, the manifest's extensions present, and the user's checks pass.
 */
export async function validateRestored(
  client: pg.Client,
  inventory: Inventory,
  options: {
    minTables: number;
    checks: HealthCheck[];
    /** More connections to the same database: the row counts are spread over these and `client`. */
    counters?: pg.Client[];
  },
): Promise<Validation> {
  const reasons: string[] = [];
  const present = await listTables(client);
  const key = (s: string, n: string) => `${s}.${n}`;
  // Tables by (schema, name): a dot may be part of either, so "s.n" names, it does not identify.
  const id = (s: string, n: string) => `${s}\0${n}`;
  const presentSet = new Set(present.map((t) => id(t.schema, t.name)));
  const known = new Set(inventory.tables.map((t) => id(t.schema, t.name)));
  const found = await countTables(
    [client, ...(options.counters ?? [])],
    [
      ...inventory.tables.filter((t) => presentSet.has(id(t.schema, t.name))),
      ...present.filter((t) => !known.has(id(t.schema, t.name))).map((t) => ({ ...t, rows: 0 })),
    ],
  );
  const tables: TableCheck[] = inventory.tables.map((t) => {
    const n = found.get(id(t.schema, t.name));
    return n === undefined
      ? { schema: t.schema, name: t.name, expected: t.rows, found: null, ok: false }
      : { schema: t.schema, name: t.name, expected: t.rows, found: n, ok: n === t.rows };
  });
  for (const t of present) {
    if (!known.has(id(t.schema, t.name))) {
      tables.push({
        schema: t.schema,
        name: t.name,
        expected: null,
        found: found.get(id(t.schema, t.name))!,
        ok: true,
      });
    }
  }
  const missing = tables.filter((t) => t.found === null);
  const wrong = tables.filter((t) => t.found !== null && t.expected !== null && !t.ok);
  if (missing.length)
    reasons.push(
      `${missing.length} table(s) missing after restore: ${missing.map((t) => key(t.schema, t.name)).join(', ')}`,
    );
  for (const t of wrong) {
    reasons.push(`row count of ${key(t.schema, t.name)} is ${t.found}, the manifest says ${t.expected}`);
  }
  const tableCount = {
    min: options.minTables,
    found: present.length,
    ok: present.length >= options.minTables,
  };
  if (!tableCount.ok) {
    reasons.push(
      `only ${present.length} table(s) restored; at least ${options.minTables} required (min-tables)`,
    );
  }
  const restoredExt = new Map((await listExtensions(client)).map((e) => [e.name, e.version]));
  const extensions = inventory.extensions.map((e) => {
    const found = restoredExt.get(e.name) ?? null;
    return { name: e.name, expected: e.version, found, ok: found !== null };
  });
  for (const e of extensions) if (!e.ok) reasons.push(`extension ${e.name} is missing after restore`);
  const checks = await runHealthChecks(client, options.checks);
  for (const c of checks) {
    if (!c.ok) {
      reasons.push(
        c.error
          ? `health check "${c.name}" failed with an error: ${c.error}`
          : `health check "${c.name}" returned ${c.actual ?? 'NULL'}, expected ${c.expected}`,
      );
    }
  }
  return { tableCount, tables, extensions, checks, reasons };
}

/**
 * Exact row counts of `tables` (keyed schema NUL name), spread over `clients`: the largest tables
 * (by the manifest's count) go first, each to whichever connection is free next, so a restored
 * database's sequential scans run on as many cores as there are connections.
 */
async function countTables(
  clients: pg.Client[],
  tables: { schema: string; name: string; rows: number }[],
): Promise<Map<string, number>> {
  const queue = [...tables].sort((a, b) => b.rows - a.rows);
  const found = new Map<string, number>();
  // A failure empties the queue; it is thrown once every connection's current query is over.
  const settled = await Promise.allSettled(
    clients.map(async (c) => {
      for (let t = queue.shift(); t; t = queue.shift()) {
        try {
          found.set(`${t.schema}\0${t.name}`, await countRows(c, t.schema, t.name));
        } catch (error) {
          queue.length = 0;
          throw error;
        }
      }
    }),
  );
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return found;
}

export interface ObjectCompareOptions {
  /** Compare owners (false after a --no-owner restore). */
  owners: boolean;
  /** Compare ACL digests (false after a --no-privileges restore). */
  privileges: boolean;
}

/**
 * Compares the restored database with the manifest's inventory beyond tables and rows: owners
 * and ACLs of relations and schemas, row-level security and policies, materialized views,
 * sequences, partitioned parents' totals, large objects and the schema fingerprint. Only what
 * the manifest recorded is compared (a manifest@1 has the fingerprint alone).
 */
export async function compareObjects(
  client: pg.Client,
  inventory: Inventory,
  options: ObjectCompareOptions,
): Promise<ObjectCheck[]> {
  const out: ObjectCheck[] = [];
  // An ACL holds its owner's own grants: with other owners it cannot equal the manifest's.
  const privileges = options.privileges && options.owners;
  const add = (kind: string, object: string, expected: string, found: string | null) =>
    out.push({ kind, object, expected, found, ok: found === expected });
  const q = (schema: string, name: string) => `${schema}.${name}`;

  if (inventory.relations) {
    const found = new Map((await listRelations(client)).map((r) => [q(r.schema, r.name), r]));
    for (const r of inventory.relations) {
      const f = found.get(q(r.schema, r.name));
      const what = q(r.schema, r.name);
      if (options.owners) add('owner', what, r.owner, f?.owner ?? null);
      if (privileges)
        add('privileges (ACL digest)', what, r.aclDigest.slice(0, 16), f?.aclDigest.slice(0, 16) ?? null);
      if (r.rowSecurity || r.forceRowSecurity || (f && (f.rowSecurity || f.forceRowSecurity))) {
        const s = (x: RelationInventory) =>
          `${x.rowSecurity ? 'enabled' : 'disabled'}${x.forceRowSecurity ? ', forced' : ''}`;
        add('row-level security', what, s(r), f ? s(f) : null);
      }
      if (r.policies > 0 || (f && f.policies > 0)) {
        const s = (x: RelationInventory) => `${x.policies} (${x.policiesDigest.slice(0, 16)})`;
        add('policies', what, s(r), f ? s(f) : null);
      }
    }
  }
  if (inventory.schemas) {
    const found = new Map((await listSchemas(client)).map((s) => [s.name, s]));
    for (const s of inventory.schemas) {
      const f = found.get(s.name);
      if (options.owners) add('schema owner', s.name, s.owner, f?.owner ?? null);
      if (privileges)
        add(
          'schema privileges (ACL digest)',
          s.name,
          s.aclDigest.slice(0, 16),
          f?.aclDigest.slice(0, 16) ?? null,
        );
    }
  }
  if (inventory.materializedViews) {
    const found = new Map((await listMaterializedViews(client)).map((m) => [q(m.schema, m.name), m]));
    const s = (m: MaterializedViewInventory) => (m.populated ? `populated, ${m.rows} rows` : 'not populated');
    for (const m of inventory.materializedViews) {
      const f = found.get(q(m.schema, m.name));
      add('materialized view', q(m.schema, m.name), s(m), f ? s(f) : null);
    }
  }
  if (inventory.sequences) {
    const found = new Map((await listSequences(client)).map((x) => [q(x.schema, x.name), x]));
    const s = (x: SequenceInventory) => `${x.lastValue}${x.isCalled ? '' : ' (not called)'}`;
    // The manifest's value was read just before pg_dump started, pg_dump's a moment later: on
    // a database in use the restored sequence may be further along, never behind.
    for (const x of inventory.sequences) {
      const f = found.get(q(x.schema, x.name));
      const ok = f !== undefined && (s(f) === s(x) || BigInt(f.lastValue) > BigInt(x.lastValue));
      out.push({
        kind: 'sequence last value',
        object: q(x.schema, x.name),
        expected: `${s(x)} or later`,
        found: f ? s(f) : null,
        ok,
      });
    }
  }
  if (inventory.partitioned) {
    const found = new Map((await listPartitioned(client)).map((p) => [q(p.schema, p.name), p]));
    for (const p of inventory.partitioned) {
      const f = found.get(q(p.schema, p.name));
      add(
        'partitioned table rows',
        q(p.schema, p.name),
        `${p.rows} rows in ${p.leaves.length} partitions`,
        f ? `${f.rows} rows in ${f.leaves.length} partitions` : null,
      );
    }
  }
  if (inventory.largeObjects) {
    const lo = inventory.largeObjects;
    const f = await largeObjects(client);
    const s = (x: LargeObjectInventory) => `${x.count} objects, ${x.bytes} bytes, ${x.digest.slice(0, 16)}`;
    if (options.owners) add('large objects', '', s(lo), s(f));
    else add('large objects (contents)', '', s({ ...lo, digest: '' }), s({ ...f, digest: '' }));
  }
  add(
    'schema fingerprint',
    '',
    inventory.schemaFingerprint.slice(0, 16),
    (await schemaFingerprint(client)).slice(0, 16),
  );
  return out;
}

/** A sentence per failed object check. */
export function objectReasons(checks: ObjectCheck[]): string[] {
  return checks
    .filter((c) => !c.ok)
    .map(
      (c) =>
        `${c.kind}${c.object ? ` of ${c.object}` : ''} is ${c.found === null ? 'missing' : `"${c.found}"`}, the manifest says "${c.expected}"`,
    );
}
