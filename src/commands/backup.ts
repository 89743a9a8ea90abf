import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { recentManifests } from '../catalog/catalog.js';
import { nameInDb } from '../catalog/layout.js';
import { backupId, backupKeys } from '../catalog/names.js';
import { MANIFEST_FORMAT, type Manifest } from '../catalog/types.js';
import { describeZstd, probeZstdBinary } from '../compress/zstd.js';
import { createAgeEncryptStream } from '../crypto/age.js';
import { sha256Sidecar } from '../crypto/hash.js';
import type { TeardownHandle } from '../engines/teardown.js';
import { ConfigError, describeError, JobFailedError } from '../errors.js';
import { ensureDirectory, writeFailure } from '../files.js';
import type { Logger } from '../log.js';
import { checkParts, partSections, type StagedParts, stageParts, storeStagedParts } from '../parts/backup.js';
import type { FilesConfig } from '../parts/files.js';
import { connect, type PgClient, quoteIdent, serverInfo } from '../postgres/client.js';
import { resolveCompose } from '../postgres/compose.js';
import type { PgConnection } from '../postgres/connection.js';
import { type Compression, compressionLabel, planCompression, startPgDump } from '../postgres/dump.js';
import { engineSharesHost } from '../postgres/exec.js';
import { readGlobals, renderGlobalsSql } from '../postgres/globals.js';
import { countBesideDump, listSequences, takeInventory } from '../postgres/inventory.js';
import { probeStdbuf } from '../postgres/output-buffer.js';
import { describeTool, findAllTools, resolvePgTool, toolRecord } from '../postgres/tools.js';
import type { RedisTarget } from '../redis/client.js';
import { checkRowDrops, checkSizeAnomaly } from '../report/anomaly.js';
import { formatBytes } from '../report/format.js';
import { StorageConflictError, StorageUnavailableError } from '../storage/errors.js';
import { fsWatchFor } from '../storage/fs-watch.js';
import { bufferSource, stagedDumpName, sweepStagedDumps } from '../storage/index.js';
import type { StagingDir } from '../storage/staging.js';
import type { PutSource, Storage } from '../storage/types.js';
import { TOOL_VERSION } from '../version.js';
import { type ObjectEncryption, registerStagedFile, type StagedObject, stageObject } from './stage-object.js';

export type EncryptionConfig = ObjectEncryption;

export interface BackupConfig {
  connection: PgConnection;
  /** Opened destinations; the first local one (if any) also stages the dump. */
  destinations: Storage[];
  prefix: string;
  compression: Compression | 'auto';
  encryption: EncryptionConfig;
  /** Where to stage the dump when no destination is local (default: the OS temp dir). */
  stagingDir?: string;
  /** Files and directories archived into the backup (object role files). */
  files?: FilesConfig;
  /** A Redis whose RDB snapshot goes into the backup (object role redis). */
  redis?: RedisTarget;
  /** Size and row-count anomaly thresholds (defaults: median of 7, 50 %-200 %, 20 % row drop). */
  anomaly?: {
    historySize?: number;
    lowRatio?: number;
    highRatio?: number;
    minBytes?: number;
    rowDropRatio?: number;
  };
}

export interface BackupProgress {
  /** Plaintext dump bytes so far. */
  bytes: number;
  elapsedMs: number;
  /** What the last backup's dump came to: the estimate of this one's total, when there is one. */
  estimatedBytes?: number;
  /** The dump is over: this is the last report. */
  done?: boolean;
}

/** The estimate of a dump's size: the newest earlier backup's plaintext dump. */
function dumpEstimate(previous: Manifest | undefined): number | undefined {
  if (!previous) return undefined;
  const dump = previous.objects?.find((o) => o.role === 'dump');
  return dump?.plainBytes ?? previous.object.bytes;
}

export interface BackupDeps {
  logger: Logger;
  now?: () => Date;
  onProgress?: (p: BackupProgress) => void;
  env?: NodeJS.ProcessEnv;
}

export interface BackupResult {
  id: string;
  manifest: Manifest;
  /** Where it went: each destination's display location and the stored object key. */
  stored: { destination: string; key: string }[];
  durationMs: number;
  phases: Record<string, number>;
  /** Anomalies worth a warning (size against recent backups, tables that lost rows). */
  warnings: string[];
  /** Median stored size of the recent complete backups, when there were any. */
  medianBytes: number | null;
}

/**
 * One backup: `pg_dump -Fc` in the snapshot of an exporting transaction, streamed through
 * SHA-256 (plaintext), age encryption and SHA-256 (stored bytes) into a staged file; then the
 * object and its sidecar go to every destination and are confirmed there; the manifest, with
 * the inventory counted in the dump's own snapshot, is written last.
 */
export async function runBackup(config: BackupConfig, deps: BackupDeps): Promise<BackupResult> {
  const { logger } = deps;
  const now = deps.now ?? (() => new Date());
  const started = Date.now();
  const phases: Record<string, number> = {};
  if (config.destinations.length === 0) throw new JobFailedError('no destination to back up to');
  // Compose mode: the service, its credentials and the route into it, found now (postgres/compose.ts).
  config = {
    ...config,
    connection: await resolveCompose(config.connection, { logger, ...(deps.env ? { env: deps.env } : {}) }),
  };

  const env = deps.env ?? process.env;
  // The local pg_dump binaries, zstd and stdbuf answer while the server is asked who it is.
  if (!config.connection.via) findAllTools('pg_dump', env).catch(() => {});
  const zstdProbe = config.compression === 'auto' ? probeZstdBinary(env) : Promise.resolve(null);
  // A pg_dump in a compose service's container runs as its image has it (output-buffer.ts).
  const stdbufProbe = config.connection.via ? Promise.resolve(null) : probeStdbuf(env);
  // Redis answers (and takes the password) before anything else is done.
  await checkParts(config);
  // The history needs no database: it is read while the server answers, and awaited before
  // anything is written (the staging directory may be the same mount: one call there at a time).
  const historyPromise = readHistory(config);
  historyPromise.catch(() => {});
  const client = await connect(config.connection);
  let staged: string | undefined;
  let stagedTeardown: TeardownHandle | undefined;
  let parts: StagedParts | undefined;
  try {
    const server = await serverInfo(client);
    await assertNotFilteredByRls(client, config.connection);
    // Fails before anything is written when no pg_dump can serve this server.
    const pgDump = await resolvePgTool('pg_dump', server.major, `a PostgreSQL ${server.version} server`, {
      ...(deps.env ? { env: deps.env } : {}),
      logger,
      ...(config.connection.via ? { via: config.connection.via } : {}),
    });
    await zstdProbe;
    const stdbuf = await stdbufProbe;
    // A container's pg_dump writes into a FIFO of this host where the engine shares it (output-fifo.ts).
    const fifo = pgDump.image !== undefined && (await engineSharesHost(env));
    const plan = planCompression(config.compression, pgDump, env);
    const compression = plan.archive;
    logger.info(
      `source PostgreSQL ${server.version}; ${describeTool(pgDump)}; compression ${
        plan.outer
          ? `zstd:${plan.outer.level} outside the archive (${describeZstd(plan.outer.engine)}; pg_dump -Z0)`
          : compressionLabel(compression)
      }`,
    );

    const history = await historyPromise;
    // The staging directory may be a mount (a local destination's root): every call there is
    // bounded, so one that stops answering fails the backup instead of hanging it.
    const stagingDir = stagingDirFor(config);
    const { watch } = stagingDir;
    const io = watch.calls('put');
    await ensureDirectory(stagingDir.path, 'the staging directory', STAGING_FIX, io);
    // Staged dumps of killed backups (named by host and pid): removed once their run is gone.
    const swept = await io('sweep', () =>
      sweepStagedDumps(stagingDir.path, new Date(now().getTime() - 24 * 3600 * 1000)),
    ).catch(() => []);
    for (const path of swept) logger.info(`removed ${path}, staged by a backup that was interrupted`);
    staged = join(stagingDir.path, stagedDumpName());
    const stagedPath = staged;
    stagedTeardown = registerStagedFile(`staged dump ${stagedPath}`, stagedPath, stagingDir);

    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const snap = await client.query<{ s: string }>('SELECT pg_export_snapshot() AS s');
    const snapshot = snap.rows[0]!.s;
    const snapshotAt = now();
    await countBesideDump(client, server.versionNum);

    // Sequences are not transactional: no snapshot holds their values, and pg_dump reads them
    // whenever it gets to them. Read here, before pg_dump starts, a sequence's value in the
    // manifest is one the restored sequence can only be at or past (see validate.ts).
    const sequences = await listSequences(client);
    const dumpStarted = Date.now();
    let stagedDump: StagedObject | undefined;
    const dump = startPgDump(pgDump, config.connection, { compression, snapshot, stdbuf, fifo });
    // pg_dump → [zstd] → SHA-256 → age → SHA-256 → the staged file, in one pass.
    const staging = stageObject({
      payload: dump,
      ...(plan.outer ? { compression: plan.outer } : {}),
      encryption: config.encryption,
      path: staged,
      io,
    });
    const estimate = dumpEstimate(history[0]);
    const progress = (done: boolean) =>
      deps.onProgress?.({
        bytes: staging.plainBytes,
        elapsedMs: Date.now() - dumpStarted,
        ...(estimate ? { estimatedBytes: estimate } : {}),
        ...(done ? { done } : {}),
      });
    const ticker = deps.onProgress ? setInterval(() => progress(false), 500) : undefined;
    // Count rows in the same snapshot while pg_dump reads: both see exactly the same data. The
    // roles and tablespaces (the globals) are read on the same session once the counts are in.
    const sessionPromise = logger
      .group('inventory (exact row counts in the dump snapshot)', () => takeInventory(client, { sequences }))
      .then(async (inventory) => ({ inventory, globals: await readGlobals(client) }));
    // If the dump fails first, this promise is abandoned: its rejection must not go unhandled.
    sessionPromise.catch(() => {});
    try {
      stagedDump = await logger.group('dump, checksum and encrypt', async () => {
        try {
          return await staging.done;
        } catch (error) {
          throw writeFailure(error, stagingDir.path, 'the staged dump', {
            written: staging.storedBytes,
            ...(history[0] ? { needed: history[0].object.bytes } : {}),
            format: formatBytes,
          });
        }
      });
    } finally {
      if (ticker) clearInterval(ticker);
      progress(true);
    }
    phases.dumpMs = Date.now() - dumpStarted;
    const stored = stagedDump!;
    // pg_dump exited cleanly yet nothing came through the FIFO: it wrote into a file the engine
    // made at that path on its side (an engine that sees another file system than this host's:
    // snap-confined Docker has a /tmp of its own). An archive is never this small.
    if (dump.fifo && stored.plainBytes < 64) {
      throw new JobFailedError(
        `pg_dump in its container (${describeTool(pgDump)}) ended cleanly but wrote nothing into this host's FIFO ${dump.fifo}: the Docker engine sees another file system at that path`,
        {
          hint: 'set LMS_DUMP_FIFO=none to have the container write the archive to its stdout; nothing was kept',
        },
      );
    }
    const { inventory, globals } = await sessionPromise;
    await client.query('COMMIT');
    const globalsText = Buffer.from(
      renderGlobalsSql(globals, { database: config.connection.database, takenAt: snapshotAt.toISOString() }),
    );
    const globalsStored = await encryptBuffer(globalsText, config.encryption);
    parts = await stageParts(config, stagingDir, logger, now);
    logger.info(
      `dumped ${stored.plainBytes} bytes${stored.compression ? ` (${stored.compression})` : ''} (stored ${stored.bytes}); ${inventory.tableCount} tables, ${inventory.totalRows} rows`,
    );

    // A dump of zero bytes (or under the minimum) is a failure: it is never stored as complete.
    const a = config.anomaly ?? {};
    const size = checkSizeAnomaly({
      bytes: stored.bytes,
      history: history.map((m) => m.object.bytes).reverse(),
      ...(a.historySize !== undefined ? { historySize: a.historySize } : {}),
      ...(a.lowRatio !== undefined ? { lowRatio: a.lowRatio } : {}),
      ...(a.highRatio !== undefined ? { highRatio: a.highRatio } : {}),
      ...(a.minBytes !== undefined ? { minBytes: a.minBytes } : {}),
    });
    if (size.severity === 'critical') {
      throw new JobFailedError(size.message, {
        hint: 'check the source database and the pg_dump output; nothing was stored',
      });
    }
    const warnings: string[] = [];
    if (size.severity === 'warning') warnings.push(size.message);
    const previous = history[0];
    if (previous) {
      for (const f of checkRowDrops(previous.inventory.tables, inventory.tables, {
        ...(a.rowDropRatio !== undefined ? { dropRatio: a.rowDropRatio } : {}),
      })) {
        warnings.push(f.message);
      }
    }
    for (const w of warnings) logger.warn(w);
    warnings.push(...parts.warnings);

    const encrypted = config.encryption.mode === 'age';
    const source: PutSource = {
      // Read for the other destinations: a staging directory that stops answering fails the put.
      open: () => watch.guardRead(createReadStream(staged!), staged!),
      size: stored.bytes,
      sha256: stored.sha256,
      path: staged,
      witness: stored.witness,
    };

    const uploadStarted = Date.now();
    const globalsSource = bufferSource(globalsStored);
    const id = await logger.group('store', () =>
      storeEverywhere(config, source, globalsSource, encrypted, snapshotAt, logger),
    );
    const keys = backupKeys(id, encrypted);
    const partObjects = await storeStagedParts(config.destinations, id, encrypted, parts, logger);
    phases.storeMs = Date.now() - uploadStarted;

    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      id,
      createdAt: snapshotAt.toISOString(),
      completedAt: now().toISOString(),
      source: {
        host: config.connection.host,
        port: config.connection.port,
        database: config.connection.database,
        user: config.connection.user,
        serverVersion: server.version,
        serverVersionNum: server.versionNum,
      },
      tool: {
        name: 'lms-backup',
        version: TOOL_VERSION,
        pgDumpVersion: pgDump.version,
        pgDump: toolRecord(pgDump),
      },
      dump: {
        format: 'custom',
        compression: compressionLabel(compression),
        ...(stored.compression ? { outerCompression: stored.compression } : {}),
        bytes: stored.plainBytes,
        sha256: stored.plainSha256,
        durationMs: phases.dumpMs,
      },
      object: { key: keys.dump, bytes: stored.bytes, sha256: stored.sha256, sidecarKey: keys.sidecar },
      objects: [
        {
          role: 'dump',
          key: keys.dump,
          bytes: stored.bytes,
          sha256: stored.sha256,
          sidecarKey: keys.sidecar,
          plainBytes: stored.plainBytes,
          plainSha256: stored.plainSha256,
          ...(stored.compression ? { compression: stored.compression } : {}),
        },
        {
          role: 'globals',
          key: keys.globals,
          bytes: globalsSource.size,
          sha256: globalsSource.sha256,
          sidecarKey: keys.globalsSidecar,
          plainBytes: globalsText.length,
          plainSha256: createHash('sha256').update(globalsText).digest('hex'),
        },
        ...partObjects,
      ],
      globals: {
        roles: globals.roles.map((r) => r.name),
        tablespaces: globals.tablespaces.map((t) => t.name),
      },
      ...partSections(parts),
      encryption:
        config.encryption.mode === 'age'
          ? {
              scheme: 'age',
              recipients: config.encryption.passphrase ? [] : [...config.encryption.recipients],
              passphrase: Boolean(config.encryption.passphrase),
            }
          : { scheme: 'none', recipients: [], passphrase: false },
      inventory,
    };
    // The manifest goes last, everywhere: its presence marks the backup complete.
    const manifestBody = bufferSource(`${JSON.stringify(manifest, null, 2)}\n`);
    for (const dest of config.destinations) await dest.put(keys.manifest, manifestBody);

    return {
      id,
      manifest,
      stored: config.destinations.map((d) => ({ destination: d.display, key: keys.dump })),
      durationMs: Date.now() - started,
      phases,
      warnings,
      medianBytes: size.median,
    };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    // The session is done with (committed or rolled back): its Terminate is sent now, and the
    // server's close of the socket (some 10-15 ms) is not waited for.
    client.end().catch(() => {});
    // What was staged is removed; a failure to (a directory that stopped answering) is a
    // warning, never the error the backup ends with. The next backup sweeps what is left.
    const leftOver = (what: string) => (error: unknown) =>
      logger.warn(`could not remove ${what}: ${describeError(error).split('\n')[0]}`);
    await stagedTeardown?.run().catch(leftOver(`the staged dump ${staged}`));
    await parts?.cleanup().catch(leftOver('the staged parts'));
  }
}

const STAGING_FIX =
  'give a --to directory this user can create and write on a writable file system ' +
  '(cloud-only destinations stage in TMPDIR: point TMPDIR at a writable disk)';

/**
 * The recent complete backups: the baseline for the size and row-count anomaly checks. A
 * destination that does not answer fails the backup before anything is dumped (the store would
 * only wait out the same bound again); any other trouble only loses the baseline.
 */
function readHistory(config: BackupConfig): Promise<Manifest[]> {
  return recentManifests(config.destinations[0]!, config.anomaly?.historySize ?? 7).catch(
    (error: unknown) => {
      if (error instanceof StorageUnavailableError) throw error;
      return [];
    },
  );
}

function stagingDirFor(config: BackupConfig): StagingDir {
  // A local destination's display is its absolute root: staging there lets the store hard-link,
  // under the destination's own watch (a mount that hangs is found once, named by it).
  const local = config.destinations.find((d) => d.kind === 'local');
  if (local) return { path: join(local.display, 'db'), watch: fsWatchFor(local.display) };
  const dir = config.stagingDir ?? tmpdir();
  return { path: dir, watch: fsWatchFor(dir) };
}

/**
 * Stores the object and its sidecar in every destination under a fresh id. Ids are
 * create-only: when a name is taken (two runs in one second), the next sequence is used.
 */
async function storeEverywhere(
  config: BackupConfig,
  source: PutSource,
  globals: PutSource,
  encrypted: boolean,
  at: Date,
  logger: Logger,
): Promise<string> {
  const [first, ...rest] = config.destinations as [Storage, ...Storage[]];
  for (let sequence = 1; sequence <= 100; sequence++) {
    const id = backupId(config.prefix, at, sequence);
    const keys = backupKeys(id, encrypted);
    if (
      await anyExists(config.destinations, [
        keys.dump,
        keys.manifest,
        keys.sidecar,
        keys.globals,
        keys.globalsSidecar,
      ])
    )
      continue;
    try {
      await first.put(keys.dump, source);
    } catch (error) {
      if (error instanceof StorageConflictError) continue;
      throw error;
    }
    const sidecar = bufferSource(sha256Sidecar(source.sha256, nameInDb(keys.dump)));
    const globalsSidecar = bufferSource(sha256Sidecar(globals.sha256, nameInDb(keys.globals)));
    // Every object and its sidecar, confirmed by each put, before any manifest is written.
    // The three small ones at once (one round trip, not three); each call settles before the
    // first failure, if any, is thrown: nothing of this backup is still being written after it.
    const putAll = async (dest: Storage, withDump: boolean) => {
      if (withDump) await dest.put(keys.dump, source);
      const puts = await Promise.allSettled([
        dest.put(keys.sidecar, sidecar),
        dest.put(keys.globals, globals),
        dest.put(keys.globalsSidecar, globalsSidecar),
      ]);
      for (const p of puts) if (p.status === 'rejected') throw p.reason;
      logger.info(`stored ${keys.dump} and ${keys.globals} in ${dest.display}`);
    };
    await putAll(first, false);
    for (const dest of rest) await putAll(dest, true);
    return id;
  }
  throw new JobFailedError(`could not find a free backup name for ${backupId(config.prefix, at)}`);
}

/** The globals are small: encrypted in memory with the dump's recipients (or passphrase). */
async function encryptBuffer(data: Buffer, encryption: EncryptionConfig): Promise<Buffer> {
  if (encryption.mode !== 'age') return data;
  const chunks: Buffer[] = [];
  const enc = createAgeEncryptStream(
    encryption.passphrase ? { passphrase: encryption.passphrase } : { recipients: encryption.recipients },
  );
  enc.on('data', (c: Buffer) => chunks.push(c));
  await pipeline(Readable.from([data]), enc);
  return Buffer.concat(chunks);
}

/**
 * pg_dump refuses tables whose row-level security would hide rows from the backup user; say so
 * before dumping, with what to grant.
 */
export async function assertNotFilteredByRls(client: PgClient, conn: PgConnection): Promise<void> {
  const r = await client.query<{ t: string }>(`
    SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS t
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND c.relrowsecurity
      AND NOT (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user)
      AND (c.relforcerowsecurity OR NOT pg_has_role(current_user, c.relowner, 'USAGE'))
    ORDER BY 1`);
  if (r.rows.length === 0) return;
  const names = r.rows.map((x) => x.t);
  throw new RlsFilteredError(
    `row-level security filters what user "${conn.user}" sees in ${names.length} table(s): ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''}; a backup of them would be incomplete`,
    {
      hint: `grant the backup user BYPASSRLS (ALTER ROLE ${quoteIdent(conn.user)} BYPASSRLS, as a superuser), or back up as a superuser`,
    },
  );
}

/** The backup user cannot see every row: nothing was dumped (exit 2). */
export class RlsFilteredError extends ConfigError {}

async function anyExists(destinations: Storage[], keys: string[]): Promise<boolean> {
  for (const d of destinations) for (const k of keys) if (await d.head(k)) return true;
  return false;
}
