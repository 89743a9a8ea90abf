import { mkdtempSync, rmSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type BackupEntry,
  damagedReason,
  listBackups,
  newerDamaged,
  type Selection,
  selectBackup,
} from '../catalog/catalog.js';
import { drillReportKey } from '../catalog/layout.js';
import { drillReportId } from '../catalog/names.js';
import { DRILL_REPORT_FORMAT, type DrillReport, type Manifest } from '../catalog/types.js';
import type { DecryptionKeys } from '../config.js';
import { EngineStartError, startThrowawayPostgres } from '../engines/index.js';
import { claimTempDir, sweepDrillDebris } from '../engines/local.js';
import { registerTeardown } from '../engines/teardown.js';
import type { EngineChoice, ThrowawayPostgres } from '../engines/types.js';
import { drillErasures } from '../erasure/restore-hook.js';
import { ensureDirectory } from '../files.js';
import type { Logger } from '../log.js';
import { drillParts } from '../parts/proofs.js';
import { connect, majorOfVersionNum, takeTemplateAsDatabase, withConnections } from '../postgres/client.js';
import { withDatabase } from '../postgres/connection.js';
import { createMissingRoles, type Globals } from '../postgres/globals.js';
import { listArchive, runPgRestore } from '../postgres/restore.js';
import { describeTool, resolvePgRestore, toolRecord } from '../postgres/tools.js';
import { compareObjects, type HealthCheck, objectReasons, validateRestored } from '../postgres/validate.js';
import { renderDrillReportMarkdown } from '../report/markdown.js';
import { fsWatchFor } from '../storage/fs-watch.js';
import { bufferSource } from '../storage/index.js';
import type { Storage } from '../storage/types.js';
import {
  describe,
  fetchVerifiedDump,
  fetchVerifiedGlobals,
  MissingIdentityError,
  Phases,
  requireDecryptionKeys,
  writeDumpOffsets,
} from './fetch.js';

export interface DrillConfig {
  /** Where the backup is read from; the report is stored there too. */
  storage: Storage;
  selection: Selection;
  keys: DecryptionKeys;
  engine: EngineChoice;
  /** Restore into this major (cross-version drill); default: the backup's server major. */
  postgresMajor?: number;
  image?: string;
  minTables: number;
  checks: HealthCheck[];
  /** pg_restore parallel jobs (default: the number of CPUs). */
  jobs?: number;
  rtoSeconds: number;
  rpoSeconds: number;
  /** Also write the report files here (e.g. backups/drill_logs when the storage is remote). */
  localReportDir?: string;
  /** Do not replay the erasure ledger: the drill still looks every erased key up, and fails on one. */
  noErasures?: boolean;
}

export interface DrillResult {
  report: DrillReport;
  markdown: string;
  /** Where the report went (storage keys and local paths). */
  written: string[];
}

/**
 * The restore drill (docs/architecture.md, "What a drill proves"): choose a backup, verify its checksum, decrypt it
 * (authenticated, to a temp file), restore it into a throwaway PostgreSQL, validate tables,
 * exact row counts, extensions and health checks, time every phase, tear everything down,
 * and write the report. A failed drill is a report with verdict "fail", not an exception.
 */
export async function runDrill(
  config: DrillConfig,
  deps: { logger: Logger; now?: () => Date },
): Promise<DrillResult> {
  const { logger } = deps;
  const now = deps.now ?? (() => new Date());
  const startedAt = now();
  const phases = new Phases();
  const reasons: string[] = [];

  // What killed drills left (their servers, restores, GBs in the temp dir); never a live drill's.
  await sweepDrillDebris(tmpdir(), logger).catch((error: unknown) =>
    logger.warn(`could not sweep what earlier drills left in ${tmpdir()}: ${describe(error)}`),
  );
  const entries = await phases.time('select', () => listBackups(config.storage));
  const entry: BackupEntry = selectBackup(entries, config.selection, config.storage.display);
  const manifest = entry.manifest as Manifest;
  const latest =
    (!config.selection.name || config.selection.name === 'latest') &&
    !config.selection.before &&
    !config.selection.verifiedOnly;
  logger.info(`drilling ${entry.id} (taken ${manifest.createdAt}) from ${config.storage.display}`);
  // The newest backup cannot be believed: drilling an older one must not pass as "latest is fine".
  if (latest) for (const d of newerDamaged(entries, entry)) reasons.push(damagedReason(d));
  let notRun: MissingIdentityError | undefined;
  try {
    requireDecryptionKeys(manifest, config.keys);
  } catch (error) {
    if (!(error instanceof MissingIdentityError)) throw error;
    notRun = error;
  }

  const work = mkdtempSync(join(tmpdir(), 'lms-drill-'));
  claimTempDir(work);
  const cleanupWork = registerTeardown(
    `drill work dir ${work}`,
    async () => rmSync(work, { recursive: true, force: true }),
    () => rmSync(work, { recursive: true, force: true }),
  );
  let server: ThrowawayPostgres | undefined;
  let serverStart: Promise<ThrowawayPostgres> | undefined;
  /** The scratch dump's removal, started once pg_restore is done with it. */
  let dumpRemoved: Promise<void> | undefined;
  const report: DrillReport = {
    format: DRILL_REPORT_FORMAT,
    id: drillReportId(startedAt),
    backupId: entry.id,
    backupCreatedAt: manifest.createdAt,
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    verdict: 'fail',
    reasons,
    checksum: { expected: manifest.object.sha256, actual: null, ok: false },
    decryption: { scheme: manifest.encryption.scheme, ok: false },
    engine: { kind: 'none', requested: config.engine, description: 'not started', serverVersion: null },
    restore: { ok: false, jobs: config.jobs ?? Math.max(1, cpus().length), errors: [] },
    tableCount: { min: config.minTables, found: null, ok: false },
    tables: [],
    extensions: [],
    checks: [],
    phases: phases.ms,
    rto: { objectiveSeconds: config.rtoSeconds, measuredSeconds: 0, ok: false },
    rpo: { objectiveSeconds: config.rpoSeconds, backupAgeSeconds: 0, ok: false },
  };

  /** Set when the drill could not be run (no key, server or tool): the backup is not at fault. */
  let couldNotRun: string | undefined;
  const cannotRun = (reason: string) => {
    couldNotRun = `could not run: ${reason}`;
    reasons.push(couldNotRun);
  };

  if (notRun) {
    cannotRun(`${notRun.message}${notRun.hint ? ` (${notRun.hint})` : ''}`);
    const result = await finish();
    throw new MissingIdentityError(notRun.message, {
      hint: `${notRun.hint}; the failed drill report: ${result.written[0] ?? 'not written'}`,
    });
  }

  // The throwaway server starts while the object downloads (it is torn down whatever happens);
  // the phase `start` is only the wait that is left once the dump is ready.
  const major = config.postgresMajor ?? majorOfVersionNum(manifest.source.serverVersionNum);
  serverStart = startThrowawayPostgres(config.engine, {
    major,
    ...(config.image ? { image: config.image } : {}),
    restore: true,
    logger,
  });
  serverStart.then(
    (s) => {
      server = s;
    },
    () => {},
  );
  // The database the restore goes into is made as soon as the server answers, during the download.
  const databaseMade = serverStart.then((s) =>
    takeTemplateAsDatabase(s.connection, manifest.source.database),
  );
  databaseMade.catch(() => {});
  // The globals object and the pg_restore to use are found while the dump downloads.
  const globalsFetched = fetchVerifiedGlobals(config.storage, manifest, config.keys);
  globalsFetched.catch(() => {});
  const pgRestoreFound = resolvePgRestore(manifest.tool.pgDumpVersion, { logger });
  pgRestoreFound.catch(() => {});
  try {
    // 1-2. The sidecar and the stored object's SHA-256 equal the manifest's; decryption authenticates.
    const fetched = await fetchVerifiedDump(config.storage, manifest, config.keys, work, phases, logger);
    report.checksum = fetched.checksum;
    report.sidecar = fetched.sidecar;
    report.decryption = { scheme: manifest.encryption.scheme, ...fetched.decryption };
    reasons.push(...fetched.reasons);
    const dumpFile = fetched.dumpFile;
    if (!dumpFile) return await finish();
    // The globals (manifest@2): the roles the restore needs for owners, grants and policies.
    let globals: Globals | undefined;
    try {
      globals = (await globalsFetched)?.globals;
    } catch (error) {
      reasons.push(`the globals object cannot be used: ${describe(error)}`);
      return await finish();
    }
    const withOwners = globals !== undefined;
    report.restore.owners = withOwners;

    // 3. pg_restore can read the archive.
    let pgRestore: Awaited<ReturnType<typeof resolvePgRestore>>;
    try {
      pgRestore = await pgRestoreFound;
    } catch (error) {
      cannotRun(`no pg_restore that reads this backup's archive: ${describe(error)}`);
      return await finish();
    }
    report.tools = { pgRestore: toolRecord(pgRestore) };
    logger.info(`pg_restore: ${describeTool(pgRestore)}`);
    await writeDumpOffsets(dumpFile, report.restore.jobs, phases, logger);
    const toc = await phases.time('list', async () => {
      try {
        return await listArchive(pgRestore, dumpFile);
      } catch (error) {
        reasons.push(describe(error));
        return undefined;
      }
    });
    if (!toc) return await finish();

    // 4. A throwaway server, the restore, and validation.
    try {
      server = await logger.group(`start a throwaway PostgreSQL ${major} (engine ${config.engine})`, () =>
        phases.time('start', () => serverStart!),
      );
    } catch (error) {
      if (error instanceof EngineStartError) report.engine.fallbacks = error.attempts;
      report.engine.description = `not started (engine ${config.engine})`;
      cannotRun(`no throwaway PostgreSQL ${major} started, so nothing was restored: ${describe(error)}`);
      return await finish();
    }
    report.engine = {
      kind: server.engine,
      requested: config.engine,
      description: server.description,
      serverVersion: server.serverVersion,
      ...(server.fallbacks?.length ? { fallbacks: [...server.fallbacks] } : {}),
    };
    logger.info(
      `throwaway server: ${server.description}${server.fallbacks?.length ? ` (auto fell back: ${server.fallbacks.join('; ')})` : ''}`,
    );
    const target = withDatabase(server.connection, manifest.source.database);
    // A backup of the "postgres" database restores into the fresh server's own, empty one.
    await databaseMade;
    if (globals) {
      const g = globals;
      const made = await logger.group("create the backup's roles (NOLOGIN, no passwords)", async () => {
        const admin = await connect(server!.connection);
        try {
          return await createMissingRoles(admin, g);
        } finally {
          await admin.end();
        }
      });
      report.rolesCreated = made.created;
      logger.info(`created ${made.created.length} role(s): ${made.created.join(', ') || 'none needed'}`);
      for (const w of made.warnings) logger.warn(w);
    }
    const restore = await logger.group(`pg_restore -j${report.restore.jobs}`, () =>
      phases.time('restore', () =>
        runPgRestore(pgRestore, target, dumpFile, { jobs: report.restore.jobs, noOwner: !withOwners }),
      ),
    );
    // Nothing reads the scratch dump after pg_restore: the file system frees its blocks (0.1-0.2 s
    // for the bench's 363 MB archive) while the server validates, not after the teardown.
    dumpRemoved = rm(dumpFile, { force: true }).catch(() => {});
    report.restore.ok = restore.ok;
    report.restore.errors = restore.errors;
    if (!restore.ok) {
      if (restore.firstError) report.restore.firstError = restore.firstError;
      // The cause first: tables the aborted restore never reached are not data loss.
      reasons.push(
        `the restore failed, so tables, row counts and objects were not checked; first error: ${restore.firstError ?? restore.errors[0]}`,
        `pg_restore reported errors:\n${restore.errors.map((l) => `    ${l}`).join('\n')}`,
      );
      report.tables = manifest.inventory.tables.map((t) => ({
        schema: t.schema,
        name: t.name,
        expected: t.rows,
        found: null,
        ok: false,
        note: 'not checked: the restore failed',
      }));
      return await finish();
    }
    await logger.group('validate tables, row counts, extensions, objects and checks', () =>
      phases.time('validate', async () => {
        // One connection per restore job: the row counts scan the tables on as many cores.
        const jobs = Math.min(report.restore.jobs, manifest.inventory.tables.length);
        await withConnections(target, jobs, async (client, counters) => {
          const v = await validateRestored(client, manifest.inventory, {
            minTables: config.minTables,
            checks: config.checks,
            counters,
          });
          report.tableCount = v.tableCount;
          report.tables = v.tables;
          report.extensions = v.extensions;
          report.checks = v.checks;
          reasons.push(...v.reasons);
          const objects = await compareObjects(client, manifest.inventory, {
            owners: withOwners,
            privileges: withOwners,
          });
          report.objects = objects;
          reasons.push(...objectReasons(objects));
        });
      }),
    );
    const erasures = await phases.time('erasures', () =>
      drillErasures(config.storage, config.keys, target, config.noErasures, reasons, logger),
    );
    if (erasures) report.erasures = erasures;
    return await finish();
  } catch (error) {
    reasons.push(`the drill could not complete: ${describe(error)}`);
    return await finish();
  }

  async function finish(): Promise<DrillResult> {
    // The files and Redis parts are proven whatever became of the database's restore.
    if (!notRun) {
      reasons.push(
        ...(await drillParts(report, config.storage, manifest, config.keys, work, phases, logger).catch(
          (error: unknown) => [`the files and Redis parts could not be drilled: ${describe(error)}`],
        )),
      );
    }
    const recoveryMs = [
      'download',
      'decrypt',
      'list',
      'start',
      'restore',
      'validate',
      'files',
      'redis',
      'erasures',
    ].reduce((s, p) => s + (phases.ms[p] ?? 0), 0);
    if (!server && serverStart) server = await serverStart.catch(() => undefined);
    if (server) await phases.time('teardown', () => server!.stop());
    await dumpRemoved;
    await cleanupWork.run();
    const finishedAt = now();
    report.finishedAt = finishedAt.toISOString();
    report.rto.measuredSeconds = Math.round(recoveryMs / 100) / 10;
    report.rto.ok = report.rto.measuredSeconds <= config.rtoSeconds;
    report.rpo.backupAgeSeconds = Math.max(
      0,
      Math.round((finishedAt.getTime() - Date.parse(manifest.createdAt)) / 1000),
    );
    report.rpo.ok = report.rpo.backupAgeSeconds <= config.rpoSeconds;
    if (report.restore.ok && !report.rto.ok) {
      reasons.push(
        `recovery took ${report.rto.measuredSeconds} s, over the RTO objective of ${config.rtoSeconds} s`,
      );
    }
    // The newest backup being older than the RPO means backups stopped; an older backup
    // chosen on purpose (--name, --before) is only reported.
    if (latest && !report.rpo.ok) {
      reasons.push(
        `the newest backup is ${report.rpo.backupAgeSeconds} s old, over the RPO objective of ${config.rpoSeconds} s`,
      );
    }
    // Could not run, unless something found before that (a checksum, a damaged newer backup) failed it.
    report.verdict =
      reasons.length === 0
        ? 'pass'
        : couldNotRun && reasons.every((r) => r === couldNotRun || r.startsWith('the newest backup is'))
          ? 'could-not-run'
          : 'fail';
    const markdown = renderDrillReportMarkdown(report);
    const written = await writeDrillReport(config, report, markdown, logger);
    return { report, markdown, written };
  }
}

async function writeDrillReport(
  config: DrillConfig,
  report: DrillReport,
  markdown: string,
  logger: Logger,
): Promise<string[]> {
  const written: string[] = [];
  const json = `${JSON.stringify(report, null, 2)}\n`;
  try {
    await config.storage.put(drillReportKey(report.id, 'json'), bufferSource(json));
    await config.storage.put(drillReportKey(report.id, 'md'), bufferSource(markdown));
    written.push(
      `${config.storage.display}/${drillReportKey(report.id, 'json')}`,
      `${config.storage.display}/${drillReportKey(report.id, 'md')}`,
    );
  } catch (error) {
    logger.warn(`could not store the drill report in ${config.storage.display}: ${describe(error)}`);
  }
  if (config.localReportDir) {
    try {
      // The directory may be on a mount that stops answering: every call there is bounded.
      const io = fsWatchFor(resolve(config.localReportDir)).calls('put');
      await ensureDirectory(config.localReportDir, 'the report directory', undefined, io);
      const p = join(config.localReportDir, report.id);
      await io('write', () => writeFile(`${p}.json`, json));
      await io('write', () => writeFile(`${p}.md`, markdown));
      written.push(`${p}.json`, `${p}.md`);
    } catch (error) {
      logger.warn(`could not write the drill report to ${config.localReportDir}: ${describe(error)}`);
    }
  }
  return written;
}
