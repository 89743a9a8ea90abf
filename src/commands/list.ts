/** `list`: the backups in one destination with their state, newest first. */

import { listBackups } from '../catalog/catalog.js';
import type { Logger } from '../log.js';
import { partNames } from '../parts/summary.js';
import { formatBytes } from '../report/format.js';
import type { Storage } from '../storage/types.js';

export type ListState = 'complete' | 'incomplete' | 'damaged' | 'drill passed' | 'drill failed';

/** One backup, as `list --json` prints it. */
export interface ListRow {
  id: string;
  /** The recorded snapshot time (ISO 8601, UTC); for an incomplete backup, the time in its name. */
  time: string;
  /** Bytes of every stored object of the backup. */
  bytes: number;
  /** Complete backups show their last drill's verdict when they have been drilled. */
  state: ListState;
  encrypted: boolean;
  /** Why a damaged backup's manifest is not believed. */
  damage?: string;
  /** From the manifest's inventory; absent for incomplete backups. */
  tables?: number;
  rows?: number;
  /** The backup's parts beside the database: "files", "redis". */
  parts?: string[];
}

export interface ListConfig {
  storage: Storage;
}

export interface ListDeps {
  logger: Logger;
}

export async function runList(config: ListConfig, deps: ListDeps): Promise<ListRow[]> {
  const { storage } = config;
  const entries = await listBackups(storage);
  const rows = entries.map((e): ListRow => {
    const m = e.manifest;
    const state: ListState =
      e.state !== 'complete'
        ? e.state
        : e.lastDrill?.verdict === 'pass'
          ? 'drill passed'
          : e.lastDrill?.verdict === 'fail'
            ? 'drill failed'
            : 'complete';
    const row: ListRow = {
      id: e.id,
      time: Number.isNaN(e.time.getTime()) ? 'unknown' : e.time.toISOString(),
      bytes: e.bytes,
      state,
      encrypted: m ? m.encryption.scheme !== 'none' : e.keys.some((k) => k.includes('.dump.age')),
    };
    if (e.damage) row.damage = e.damage;
    if (m) {
      row.tables = m.inventory.tableCount;
      row.rows = m.inventory.totalRows;
      const parts = partNames(m);
      if (parts.length) row.parts = parts;
    }
    return row;
  });
  const incomplete = rows.filter((r) => r.state === 'incomplete').length;
  const damaged = rows.filter((r) => r.state === 'damaged').length;
  deps.logger.debug(
    `${storage.display}: ${rows.length} backup(s), ${rows.length - incomplete - damaged} complete, ${incomplete} incomplete, ${damaged} damaged`,
  );
  return rows;
}

/** 1234567 → "1,234,567" (the same in every locale). */
function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** "2024-01-15 02:00:00" from an ISO time; anything else unchanged. */
function tableTime(iso: string): string {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/.test(iso) ? iso.slice(0, 19).replace('T', ' ') : iso;
}

/** An aligned text table for people, with a one-line summary under it. */
export function renderListTable(rows: readonly ListRow[]): string {
  if (rows.length === 0) return 'no backups\n';
  const header = ['BACKUP', 'TIME (UTC)', 'SIZE', 'STATE', 'ENCRYPTED', 'TABLES', 'ROWS'];
  const rightAligned = new Set([2, 5, 6]);
  const cells = rows.map((r) => [
    r.id,
    tableTime(r.time),
    formatBytes(r.bytes),
    r.state,
    r.encrypted ? 'yes' : 'no',
    r.tables === undefined ? '-' : groupDigits(r.tables),
    r.rows === undefined ? '-' : groupDigits(r.rows),
  ]);
  // Backups with files or Redis: a column naming them (absent when no backup has any).
  if (rows.some((r) => r.parts?.length)) {
    header.push('PARTS');
    for (const [i, r] of rows.entries()) cells[i]!.push(['db', ...(r.parts ?? [])].join('+'));
  }
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => (rightAligned.has(i) ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();

  const count = (s: ListState) => rows.filter((r) => r.state === s).length;
  const complete = rows.length - count('incomplete') - count('damaged');
  const total = rows.reduce((sum, r) => sum + r.bytes, 0);
  const drills = [
    count('drill passed') ? `${count('drill passed')} drill passed` : '',
    count('drill failed') ? `${count('drill failed')} drill failed` : '',
  ].filter(Boolean);
  const summary =
    `${rows.length} backup${rows.length === 1 ? '' : 's'}, ${formatBytes(total)}: ${complete} complete` +
    (drills.length ? ` (${drills.join(', ')})` : '') +
    (count('incomplete') ? `, ${count('incomplete')} incomplete` : '') +
    (count('damaged') ? `, ${count('damaged')} damaged (never restored, drilled or pruned)` : '');
  const why = rows
    .filter((r) => r.state === 'damaged')
    .map((r) => `damaged ${r.id}: ${r.damage ?? 'its manifest cannot be believed'}\n`)
    .join('');
  return `${[line(header), ...cells.map(line)].join('\n')}\n\n${summary}\n${why ? `\n${why}` : ''}`;
}
