/** The erasure ledger's part in `restore` and `drill`, kept here so those commands only call in. */
import type { DecryptionKeys } from '../config.js';
import { ConfigError, LmsError } from '../errors.js';
import type { Logger } from '../log.js';
import type { PgConnection } from '../postgres/connection.js';
import type { Storage } from '../storage/types.js';
import { type ErasureEntry, LedgerError, readLedger } from './ledger.js';
import { describeReplay, type ErasureReplay, erasureReasons, replayLedger } from './replay.js';

export type { ErasureReplay } from './replay.js';

/**
 * Before a restore changes anything: `--no-erasures` is for forensic restores into an isolated
 * database (a selective restore's side database, or an empty or new one) and is refused over a
 * database that holds tables; otherwise the whole ledger is read, checked and decrypted now, so a
 * ledger that cannot be replayed stops the restore before it starts (exit 1, nothing changed).
 */
export async function prepareErasures(
  storage: Storage,
  keys: DecryptionKeys,
  o: {
    noErasures: boolean | undefined;
    selective: boolean;
    userTables: number;
    database: string;
    logger: Logger;
  },
): Promise<ErasureEntry[]> {
  if (o.noErasures && !o.selective && o.userTables > 0) {
    throw new ConfigError(
      `refusing --no-erasures over "${o.database}": it holds ${o.userTables} table(s), and a restore without the erasure ledger brings erased people back`,
      {
        hint: 'restore forensically into an empty database or a side database (--table/--schema), or leave --no-erasures out',
      },
    );
  }
  try {
    return await readLedger(storage, keys, o.logger);
  } catch (error) {
    if (error instanceof LmsError) {
      throw new LedgerError(
        `refusing to restore: the erasure ledger cannot be replayed (${error.message}); nothing was changed`,
        {
          hint: error.hint ?? 'fix the ledger (every destination holds a copy) and restore again',
        },
      );
    }
    throw error;
  }
}

/**
 * Replays the ledger into the restored database before the restore reports success. A key still
 * present after the replay, or one a constraint refused, fails the restore (exit 1) with what to do;
 * with `noErasures` the keys are only counted, and the output says so loudly.
 */
export async function restoreErasures(
  entries: readonly ErasureEntry[],
  target: PgConnection,
  noErasures: boolean | undefined,
  result: { erasures?: ErasureReplay; reasons: string[]; nextSteps: string[] },
  logger: Logger,
): Promise<void> {
  const r = await logger.group(
    noErasures ? 'erasure ledger: NOT replayed (--no-erasures), keys looked up' : 'replay the erasure ledger',
    () => replayLedger(entries, target, { replay: !noErasures, logger }),
  );
  result.erasures = r;
  if (noErasures) {
    result.nextSteps.unshift(
      `ERASURES NOT REPLAYED (--no-erasures): ${describeReplay(r)}. ${target.database} may hold personal data that was erased: keep it isolated, never copy from it into production, drop it when the investigation ends`,
    );
    return;
  }
  result.reasons.push(...erasureReasons(r));
}

/**
 * The drill's proof: the ledger replayed in the throwaway server (unless `noErasures`), then every
 * erased key looked up. A key still present, a refused deletion, or a ledger that cannot be read
 * fails the drill.
 */
export async function drillErasures(
  storage: Storage,
  keys: DecryptionKeys,
  target: PgConnection,
  noErasures: boolean | undefined,
  reasons: string[],
  logger: Logger,
): Promise<ErasureReplay | undefined> {
  try {
    const r = await logger.group(
      noErasures
        ? 'erasure ledger: NOT replayed (--no-erasures), keys looked up'
        : 'replay the erasure ledger',
      async () =>
        replayLedger(await readLedger(storage, keys, logger), target, { replay: !noErasures, logger }),
    );
    reasons.push(...erasureReasons(r));
    return r;
  } catch (error) {
    reasons.push(
      `the erasure ledger could not be replayed, so no erasure is proven: ${error instanceof Error ? error.message : String(error)}`,
    );
    return undefined;
  }
}

/** What a dry run says about the ledger (read and decrypted: the restore would replay it). */
export function erasurePlanNote(n: number, noErasures: boolean | undefined): string {
  if (noErasures) {
    return `ERASURES WILL NOT BE REPLAYED (--no-erasures): ${n} ledger entr${n === 1 ? 'y' : 'ies'} would be skipped`;
  }
  return `${n} erasure(s) in the ledger will be replayed into the restored data`;
}
