/** Number and time formatting shared by the Markdown and HTML renderings and the alerts. */

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'unknown';
  const sign = bytes < 0 ? '-' : '';
  let v = Math.abs(bytes);
  let unit = 0;
  while (v >= 1024 && unit < BYTE_UNITS.length - 1) {
    v /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${sign}${v.toFixed(digits)} ${BYTE_UNITS[unit]}`;
}

/** 0.967 → "96.7%", 1 → "100%", 0.5 → "50%". */
export function formatPercent(ratio: number): string {
  if (!Number.isFinite(ratio)) return 'n/a';
  const p = ratio * 100;
  const rounded = Math.round(p * 10) / 10;
  return `${Number.isInteger(rounded) ? rounded.toFixed(0) : rounded.toFixed(1)}%`;
}

/** Seconds as the two largest units a person needs: "45 s", "3 min 12 s", "26 h 5 min", "3 d 4 h". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'unknown';
  const sign = seconds < 0 ? '-' : '';
  let s = Math.round(Math.abs(seconds));
  if (s < 60) {
    // Sub-second drills exist on tiny databases: keep one decimal there.
    const abs = Math.abs(seconds);
    return `${sign}${abs < 10 && abs !== Math.round(abs) ? abs.toFixed(1) : s} s`;
  }
  // Hours up to three days: objectives and gaps read naturally as "RPO 24 h", "gap 26 h".
  const d = s >= 3 * 86400 ? Math.floor(s / 86400) : 0;
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return `${sign}${d} d${h ? ` ${h} h` : ''}`;
  if (h > 0) return `${sign}${h} h${m ? ` ${m} min` : ''}`;
  return `${sign}${m} min${s ? ` ${s} s` : ''}`;
}

/** "2024-01-31 10:00 UTC". */
export function formatUtc(date: Date | string): string {
  const d = typeof date === 'string' ? new Date(date) : date;
  if (Number.isNaN(d.getTime())) return 'unknown';
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** "2024-01-31". */
export function utcDay(date: Date | number): string {
  return new Date(date).toISOString().slice(0, 10);
}

/** Shows scheme and host only: webhook URLs carry their secret in the path or query. */
export function webhookDisplay(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return '(invalid URL)';
  }
}
