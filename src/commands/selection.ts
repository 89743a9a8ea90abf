import type { Manifest } from '../catalog/types.js';
import { ConfigError } from '../errors.js';

export interface TableName {
  schema: string;
  name: string;
}

/** Splits an SQL name: `"Weird Schema"."Mixed Case"`, `app.users`, `users`; quotes keep dots and case. */
function splitQuoted(text: string): string[] | undefined {
  const parts: string[] = [];
  let i = 0;
  while (i <= text.length) {
    let part = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) return undefined;
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== '.') part += text[i++];
    }
    parts.push(part);
    if (i >= text.length) break;
    if (text[i] !== '.') return undefined;
    i++;
  }
  return parts;
}

/**
 * Every (schema, name) a user may mean by `text`: with quotes, exactly the SQL reading; without,
 * each split at a dot ("Weird Schema.Mixed Case" means schema "Weird Schema", table "Mixed Case"),
 * or the whole text as a table name in any schema (schema '').
 */
function candidates(text: string): TableName[] {
  const t = text.trim();
  if (t.includes('"')) {
    const parts = splitQuoted(t);
    if (parts?.length === 2) return [{ schema: parts[0]!, name: parts[1]! }];
    if (parts?.length === 1) return [{ schema: '', name: parts[0]! }];
    return [];
  }
  const out: TableName[] = [{ schema: '', name: t }];
  for (let i = t.indexOf('.'); i > 0; i = t.indexOf('.', i + 1)) {
    out.push({ schema: t.slice(0, i), name: t.slice(i + 1) });
  }
  return out;
}

/**
 * The backup's tables that `--table` / `--schema` name, as leaf tables (the ones holding data
 * in the archive: a partitioned parent means its partitions). Exact spelling first, then
 * case-insensitive. Anything not in the backup, or ambiguous, is a ConfigError: nothing has been
 * created yet.
 */
export function resolveSelection(manifest: Manifest, tables: string[], schemas: string[]): TableName[] {
  const inv = manifest.inventory;
  const known: (TableName & { leaves: TableName[] })[] = [
    ...inv.tables.map((t) => ({
      schema: t.schema,
      name: t.name,
      leaves: [{ schema: t.schema, name: t.name }],
    })),
    ...(inv.partitioned ?? []).map((p) => ({ schema: p.schema, name: p.name, leaves: p.leaves })),
  ];
  const problems: string[] = [];
  const chosen = new Map<string, TableName>();
  const take = (t: TableName) => chosen.set(`${t.schema}\u0000${t.name}`, t);
  for (const text of tables) {
    const cands = candidates(text);
    const match = (fold: (s: string) => string) =>
      known.filter((k) =>
        cands.some(
          (c) => (c.schema === '' || fold(c.schema) === fold(k.schema)) && fold(c.name) === fold(k.name),
        ),
      );
    let found = match((s) => s);
    if (found.length === 0) found = match((s) => s.toLowerCase());
    if (found.length === 0) problems.push(`--table "${text}" is not a table in backup ${manifest.id}`);
    else if (found.length > 1)
      problems.push(
        `--table "${text}" is ambiguous: ${found.map((f) => `"${f.schema}"."${f.name}"`).join(', ')}; qualify it with its schema`,
      );
    else for (const l of found[0]!.leaves) take(l);
  }
  const backupSchemas = [...new Set(inv.tables.map((t) => t.schema))];
  for (const text of schemas) {
    const s = text
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .replace(/""/g, '"');
    const exact = backupSchemas.filter((b) => b === s);
    const found = exact.length ? exact : backupSchemas.filter((b) => b.toLowerCase() === s.toLowerCase());
    if (found.length !== 1) {
      problems.push(`--schema "${text}" holds no table in backup ${manifest.id}`);
      continue;
    }
    for (const t of inv.tables) if (t.schema === found[0]) take({ schema: t.schema, name: t.name });
  }
  if (problems.length) {
    const some = known
      .slice(0, 8)
      .map((k) => `${k.schema}.${k.name}`)
      .join(', ');
    throw new ConfigError(problems.join('; '), {
      hint: `name tables as schema.table (quotes for names with dots: '"My Schema"."My Table"'); the backup holds ${known.length} table(s), e.g. ${some}`,
    });
  }
  return [...chosen.values()];
}
