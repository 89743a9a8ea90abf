import { readFileSync } from 'node:fs';
import type pg from 'pg';
import type { HealthCheckResult, Inventory, TableCheck } from '../catalog/types.js';
import { ConfigError } from '../errors.js';
import { countRows, listExtensions, listTables } from './inventory.js';

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
 * DESIGN.md §6 (4-6): at least `minTables` tables, every manifest table present with exactly
 * the manifest's row count, the manifest's extensions present, and the user's checks pass.
 */
export async function validateRestored(
  client: pg.Client,
  inventory: Inventory,
  options: { minTables: number; checks: HealthCheck[] },
): Promise<Validation> {
  const reasons: string[] = [];
  const present = await listTables(client);
  const key = (s: string, n: string) => `${s}.${n}`;
  const presentSet = new Set(present.map((t) => key(t.schema, t.name)));
  const tables: TableCheck[] = [];
  for (const t of inventory.tables) {
    if (!presentSet.has(key(t.schema, t.name))) {
      tables.push({ schema: t.schema, name: t.name, expected: t.rows, found: null, ok: false });
      continue;
    }
    const found = await countRows(client, t.schema, t.name);
    tables.push({ schema: t.schema, name: t.name, expected: t.rows, found, ok: found === t.rows });
  }
  const known = new Set(inventory.tables.map((t) => key(t.schema, t.name)));
  for (const t of present) {
    if (!known.has(key(t.schema, t.name))) {
      tables.push({
        schema: t.schema,
        name: t.name,
        expected: null,
        found: await countRows(client, t.schema, t.name),
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
