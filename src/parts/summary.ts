/** How the files and Redis parts of a backup appear in list, the job summaries and reports. */
import type { Manifest } from '../catalog/types.js';
import { formatBytes } from '../report/format.js';
import type { PartsRestoreResult } from './restore.js';

/** The parts a manifest lists beside the dump and the globals: "files", "redis". */
export function partNames(m: Manifest | undefined): string[] {
  const roles = (m?.objects ?? []).map((o) => o.role as string);
  return roles.filter((r) => r !== 'dump' && r !== 'globals');
}

/** Rows for the backup's job summary. */
export function backupPartRows(m: Manifest): string[][] {
  const rows: string[][] = [];
  if (m.files) {
    rows.push([
      'Files',
      `${m.files.files} files, ${formatBytes(m.files.bytes)} (${m.files.entries} entries) from ${m.files.roots.map((r) => `\`${r}\``).join(', ')}` +
        (m.files.skipped.length ? `; ${m.files.skipped.length} skipped (sockets, devices…)` : '') +
        (m.files.changed.length ? `; ${m.files.changed.length} changed while read` : ''),
    ]);
  }
  if (m.redis) rows.push(['Redis', `${m.redis.keys} keys, Redis ${m.redis.serverVersion}`]);
  return rows;
}

/** Rows for the restore's job summary. */
export function restorePartRows(parts: PartsRestoreResult | undefined): string[][] {
  const rows: string[][] = [];
  if (parts?.files)
    rows.push([
      'Files',
      `${parts.files.ok ? 'restored' : 'FAILED'} into \`${parts.files.dir}\`: ${parts.files.detail}`,
    ]);
  if (parts?.redis) rows.push(['Redis', `${parts.redis.ok ? 'restored' : 'FAILED'}: ${parts.redis.detail}`]);
  return rows;
}
