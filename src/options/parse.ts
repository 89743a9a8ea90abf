/**
 * Parsers from a raw option value to its type. Each names the option as the user gave it
 * (`--min-tables`, `min-tables`, `lms-backup.yml: drill.min-tables`, `LMS_BACKUP_…`), so the same
 * mistake reads the same from the CLI, the action and the config file.
 */
import type { Problems } from '../config.js';

const TRUE = ['true', 'True', 'TRUE'];
const FALSE = ['false', 'False', 'FALSE'];

/** YAML 1.2 core-schema booleans only, as @actions/core's getBooleanInput: a typo is an error. */
export function parseBool(raw: string, name: string, problems: Problems): boolean | undefined {
  if (TRUE.includes(raw)) return true;
  if (FALSE.includes(raw)) return false;
  problems.add(`${name} must be true or false (got "${raw}")`, 'use true, True, TRUE, false, False or FALSE');
  return undefined;
}

export function parseIntValue(
  raw: string,
  name: string,
  problems: Problems,
  min: number,
): number | undefined {
  const n = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isInteger(n) || n < min) {
    problems.add(`${name} must be a whole number >= ${min} (got "${raw}")`);
    return undefined;
  }
  return n;
}

/** Durations like 24h, 4h, 90m, 30s, 7d, or plain seconds. */
export function parseDurationValue(raw: string, name: string, problems: Problems): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$/i.exec(raw.trim());
  if (!m) {
    problems.add(`${name} "${raw}" is not a duration`, 'use e.g. 30m, 4h, 24h or 7d');
    return undefined;
  }
  const unit = (m[2] ?? 's').toLowerCase() as 's' | 'm' | 'h' | 'd';
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[unit];
}

export function parseTimeValue(raw: string, name: string, problems: Problems): Date | undefined {
  const d = new Date(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$/.test(raw) ? raw.replace('Z', ':00Z') : raw);
  if (Number.isNaN(d.getTime())) {
    problems.add(`${name} "${raw}" is not a time`, 'use ISO 8601, e.g. 2024-01-15T03:00Z');
    return undefined;
  }
  return d;
}

/** A list of names from a fixed set, case-insensitively; each unknown one is a problem. */
export function parseEnumList<T extends string>(
  raw: string[],
  allowed: readonly T[],
  problems: Problems,
  unknown: (value: string) => { message: string; hint: string },
): T[] {
  const out: T[] = [];
  for (const item of raw.map((s) => s.toLowerCase())) {
    if ((allowed as readonly string[]).includes(item)) {
      if (!out.includes(item as T)) out.push(item as T);
    } else {
      const { message, hint } = unknown(item);
      problems.add(message, hint);
    }
  }
  return out;
}

/** Items separated by newlines or commas; blank items and surrounding spaces dropped. */
export function splitItems(value: string): string[] {
  return value
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
}
