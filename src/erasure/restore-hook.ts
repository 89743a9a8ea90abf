/** The erasure ledger's part in `restore` and `drill`, kept here so those commands only call in. */
import type { DecryptionKeys } from '../config.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import type { PgConnection } from '../postgres/connection.js';
import type { Storage } from '../storage/types.js';
import { listLedger } from './ledger.js';
import { describeReplay, type ErasureReplay, erasureReasons, replayLedger } from './replay.js';

export type { ErasureReplay } from './replay.js';

/**
 * `--no-erasures` is for forensic restores into an isolated database: a selective restore (a side
 * database) or a full restore into an empty or new database. Over a database that holds tables
 * (a live one, most likely) it is refused before anything changes.
 */
export function refuseUnerasedOverwrite(
  noErasures: boolean | undefined,
  selective: boolean,
  userTables: number,
  database: string,
): void {
  if (!noErasures || selective || userTables === 0) return;
  throw new ConfigError(
    `refusing --no-erasures over "${database}": it holds ${userTables} table(s), and a restore without the erasure ledger brings erased people back`,
    {
      hint: 'restore forensically into an empty database or a side database (--table/--schema), or leave --no-erasures out',
    },
  );
}

/**
 * Replays the ledger into the restored database before the restore reports success. A key still
 * present after the replay, or one a constraint refused, fails the restore (exit 1) with what to do;
 * with `noErasures` the keys are only counted, and the output says so loudly.
 */
export async function restoreErasures(
  storage: Storage,
  keys: DecryptionKeys,
  target: PgConnection,
  noErasures: boolean | undefined,
  result: { erasures?: ErasureReplay; reasons: string[]; nextSteps: string[] },
  logger: Logger,
): Promise<void> {
  const r = await logger.group(
    noErasures ? 'erasure ledger: NOT replayed (--no-erasures), keys looked up' : 'replay the erasure ledger',
    () => replayLedger(storage, keys, target, { replay: !noErasures, logger }),
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
      () => replayLedger(storage, keys, target, { replay: !noErasures, logger }),
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

/** What a dry run says about the ledger (from the listing: nothing is decrypted). */
export async function erasurePlanNote(storage: Storage, noErasures: boolean | undefined): Promise<string> {
  const n = (await listLedger(storage)).length;
  if (noErasures) {
    return `ERASURES WILL NOT BE REPLAYED (--no-erasures): ${n} ledger entr${n === 1 ? 'y' : 'ies'} would be skipped`;
  }
  return `${n} erasure(s) in the ledger will be replayed into the restored data`;
}
