import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { listBackups, type Selection, selectBackup } from '../catalog/catalog.js';
import { utcStamp } from '../catalog/names.js';
import type { Inventory, Manifest, ObjectCheck } from '../catalog/types.js';
import type { DecryptionKeys } from '../config.js';
import { recipientOf } from '../crypto/age.js';
import { registerTeardown } from '../engines/teardown.js';
import {
  type ErasureReplay,
  erasurePlanNote,
  prepareErasures,
  restoreErasures,
} from '../erasure/restore-hook.js';
import { ConfigError, JobFailedError } from '../errors.js';
import type { Logger } from '../log.js';
import {
  checkPartsRestore,
  type PartsRestoreConfig,
  type PartsRestoreResult,
  restoreParts,
  restorePartsOnly,
} from '../parts/restore.js';
import {
  connect,
  createDatabaseIfMissing,
  majorOfVersionNum,
  quoteIdent,
  serverInfo,
  withConnections,
} from '../postgres/client.js';
import { resolveCompose } from '../postgres/compose.js';
import { describeConnection, type PgConnection, withDatabase } from '../postgres/connection.js';
import { createMissingRoles, type Globals } from '../postgres/globals.js';
import { listTables } from '../postgres/inventory.js';
import {
  listArchive,
  parseTocLine,
  type RestoreOutcome,
  runPgRestore,
  summariseToc,
  type TocEntry,
} from '../postgres/restore.js';
import { resolvePgRestore, type ToolInfo } from '../postgres/tools.js';
import { compareObjects, objectReasons, type Validation, validateRestored } from '../postgres/validate.js';
import type { Storage } from '../storage/types.js';
import { type BackupResult, runBackup } from './backup.js';
import { describe, fetchVerifiedDump, fetchVerifiedGlobals, Phases, writeDumpOffsets } from './fetch.js';
import { resolveSelection, type TableName } from './selection.js';

/** files and redis (restore --files-to, --redis-to): the backup's other parts, see src/parts/restore.ts. */
export interface RestoreConfig extends PartsRestoreConfig {
  storage: Storage;
  selection: Selection;
  keys: DecryptionKeys;
  target: PgConnection;
  /** Must equal the target database's name when the target holds any user table. */
  confirm?: string;
  /** Back up a non-empty target before overwriting it (default on). */
  safetyBackup: boolean;
  /** Where the safety backup goes (default: the backup's own storage). */
  safetyStorage?: Storage;
  /** Restore into a server whose major is older than the backup's. */
  force: boolean;
  dryRun: boolean;
  /** Selective restore: these tables ("schema.table" or "table") into a side database. */
  tables: string[];
  schemas: string[];
  jobs?: number;
  minTables: number;
  /** Create the roles the archive needs and the target lacks, from the backup's globals (NOLOGIN, no passwords). */
  createRoles?: boolean;
  /** pg_restore --no-owner: objects belong to the restoring user. */
  noOwner?: boolean;
  /** pg_restore --no-privileges: no GRANT/REVOKE. */
  noPrivileges?: boolean;
  /** Forensics only: do not replay the erasure ledger (said loudly; refused over a database holding tables). */
  noErasures?: boolean;
}

export interface RestorePlan {
  backupId: string;
  backupTakenAt: string;
  backupAgeSeconds: number;
  checksumOk: boolean;
  decryptionOk: boolean;
  target: string;
  targetServerVersion: string;
  backupServerVersion: string;
  versionCheck: string;
  targetExists: boolean;
  targetUserTables: number;
  mode: 'full' | 'selective';
  /** Where a selective restore goes. */
  sideDatabase?: string;
  /** Tables a selective restore brings back (with their data). */
  selectedTables?: string[];
  toc: Record<string, number>;
  /** Roles the archive needs (owners, grantees, policy roles) that the target lacks. */
  missingRoles: string[];
  owners: boolean;
  privileges: boolean;
}

export interface RestoreResult {
  plan: RestorePlan;
  dryRun: boolean;
  safetyBackup?: { id: string; destination: string };
  restored: boolean;
  validation?: Validation;
  /** Owners, ACLs, policies and other objects compared with the manifest after a full restore. */
  objects?: ObjectCheck[];
  /** Roles --create-roles created in the target (NOLOGIN, no passwords). */
  createdRoles?: string[];
  /** The files and Redis parts restored (--files-to, --redis-to). */
  parts?: PartsRestoreResult;
  /** The erasure ledger replayed into the restored data (or, with noErasures, only looked up). */
  erasures?: ErasureReplay;
  ok: boolean;
  reasons: string[];
  /** What the operator does next (selective restore: how to compare and merge). */
  nextSteps: string[];
}

export class RestoreRefusedError extends ConfigError {}

/** The target lacks roles the archive's owners, grants or policies name (exit 2, nothing changed). */
export class MissingRolesError extends RestoreRefusedError {
  constructor(
    readonly missing: string[],
    message: string,
    hint: string,
  ) {
    super(message, { hint });
  }
}

/**
 * The roles the archive needs given what is kept: owners (unless --no-owner), grantees (unless
 * --no-privileges) and policy roles (always: pg_restore has no switch to leave a policy's roles out).
 * A manifest@1 has no list of them: the archive's owners stand in.
 */
export function neededRoles(
  manifest: Manifest,
  tocLines: string[],
  keep: { owners: boolean; privileges: boolean },
): string[] {
  const refs = manifest.inventory.roles;
  if (refs) {
    return refs
      .filter((r) =>
        r.uses.some(
          (u) => u === 'policy' || (u === 'owner' && keep.owners) || (u === 'grantee' && keep.privileges),
        ),
      )
      .map((r) => r.name)
      .sort();
  }
  if (!keep.owners) return [];
  const owners = new Set<string>();
  for (const line of tocLines) {
    const e = parseTocLine(line);
    const owner = e?.rest.split(' ').pop();
    if (e && owner && !['ENCODING', 'STDSTRINGS', 'SEARCHPATH'].includes(e.kind)) owners.add(owner);
  }
  return [...owners].sort();
}

/**
 * Restores a backup into a real target, with safety checks: a target
 * holding any user table is refused unless `confirm` names it exactly; a safety backup of it is
 * taken first; an older target major is refused unless forced; a selective restore goes to a
 * side database, never over the live tables. Owners and grants are kept unless opted out: a
 * target lacking a role they (or a policy) name is refused before anything changes, unless
 * `createRoles` creates them from the backup's globals. Afterwards the drill's validations run.
 */
export async function runRestore(
  config: RestoreConfig,
  deps: { logger: Logger; now?: () => Date },
): Promise<RestoreResult> {
  const { logger } = deps;
  const now = deps.now ?? (() => new Date());
  const phases = new Phases();
  // Compose mode: the target service, its credentials and the route into it (postgres/compose.ts).
  config = { ...config, target: await resolveCompose(config.target, { logger }) };
  const entry = selectBackup(await listBackups(config.storage), config.selection, config.storage.display);
  const manifest = entry.manifest as Manifest;
  const selective = config.tables.length > 0 || config.schemas.length > 0;
  // A table that is not in the backup fails here, before anything is fetched or created.
  const chosenTables = selective ? resolveSelection(manifest, config.tables, config.schemas) : [];
  const reasons: string[] = [];
  const keep = { owners: !config.noOwner, privileges: !config.noPrivileges };
  // Files and Redis: refused (nothing changed) when the backup lacks them or the target is not empty.
  await checkPartsRestore(config, manifest);
  if (config.partsOnly) return restorePartsOnly(config, manifest, now(), logger);

  // The target server: version, whether the database exists and holds user tables.
  const admin = await connect(withDatabase(config.target, 'postgres')).catch(async () =>
    connect(config.target),
  );
  let info: Awaited<ReturnType<typeof serverInfo>>;
  let targetExists: boolean;
  let targetRoles: Set<string>;
  try {
    info = await serverInfo(admin);
    const r = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [config.target.database]);
    targetExists = (r.rowCount ?? 0) > 0;
    targetRoles = new Set(
      (await admin.query<{ n: string }>('SELECT rolname AS n FROM pg_roles')).rows.map((x) => x.n),
    );
  } finally {
    await admin.end();
  }
  let userTables = 0;
  if (targetExists) {
    const c = await connect(config.target);
    try {
      userTables = (await listTables(c)).length;
    } finally {
      await c.end();
    }
  }
  const backupMajor = majorOfVersionNum(manifest.source.serverVersionNum);
  const versionCheck =
    info.major >= backupMajor
      ? `ok: target ${info.version} >= backup source ${manifest.source.serverVersion}`
      : `target ${info.version} is older than the backup's source ${manifest.source.serverVersion}`;

  const work = mkdtempSync(join(tmpdir(), 'lms-restore-'));
  const cleanup = registerTeardown(
    `restore work dir ${work}`,
    async () => rmSync(work, { recursive: true, force: true }),
    () => rmSync(work, { recursive: true, force: true }),
  );
  try {
    const fetched = await fetchVerifiedDump(config.storage, manifest, config.keys, work, phases, logger);
    const pgRestore = await resolvePgRestore(manifest.tool.pgDumpVersion, {
      logger,
      ...(config.target.via ? { via: config.target.via } : {}),
    });
    const tocLines = fetched.dumpFile ? await listArchive(pgRestore, fetched.dumpFile) : [];
    const toc = summariseToc(tocLines);
    const missingRoles = neededRoles(manifest, tocLines, keep).filter((r) => !targetRoles.has(r));
    const side = selective
      ? `${config.target.database}_restored_${utcStamp(now()).toLowerCase()}`
      : undefined;
    const plan: RestorePlan = {
      backupId: entry.id,
      backupTakenAt: manifest.createdAt,
      backupAgeSeconds: Math.round((now().getTime() - Date.parse(manifest.createdAt)) / 1000),
      checksumOk: fetched.checksum.ok,
      decryptionOk: fetched.decryption.ok,
      target: describeConnection(config.target),
      targetServerVersion: info.version,
      backupServerVersion: manifest.source.serverVersion,
      versionCheck,
      targetExists,
      targetUserTables: userTables,
      mode: selective ? 'selective' : 'full',
      ...(side ? { sideDatabase: side } : {}),
      ...(selective ? { selectedTables: chosenTables.map((t) => `${t.schema}.${t.name}`) } : {}),
      toc,
      missingRoles,
      owners: keep.owners,
      privileges: keep.privileges,
    };
    const result: RestoreResult = {
      plan,
      dryRun: config.dryRun,
      restored: false,
      ok: false,
      reasons,
      nextSteps: [],
    };
    if (!fetched.dumpFile) {
      reasons.push(...fetched.reasons);
      return result;
    }
    if (info.major < backupMajor && !config.force) {
      throw new RestoreRefusedError(`refusing to restore: ${versionCheck}`, {
        hint: 'restore into a server of the same or a newer major, or pass --force to try anyway',
      });
    }
    if (!selective && userTables > 0 && config.confirm !== config.target.database) {
      throw new RestoreRefusedError(
        config.confirm === undefined
          ? `refusing to restore over "${config.target.database}": it holds ${userTables} table(s)`
          : `refusing to restore: --confirm "${config.confirm}" does not name the target database "${config.target.database}"`,
        {
          hint: `to overwrite it, confirm with --confirm ${config.target.database} (a safety backup is taken first); or restore into an empty database`,
        },
      );
    }
    // The ledger is read and decrypted before anything changes: a restore that could not replay it must not start.
    const ledger = await prepareErasures(config.storage, config.keys, {
      noErasures: config.noErasures,
      selective,
      userTables,
      database: config.target.database,
      logger,
    });
    if (missingRoles.length && !config.createRoles && !config.dryRun) {
      throw new MissingRolesError(
        missingRoles,
        `refusing to restore: the target server lacks ${missingRoles.length} role(s) the backup's owners, grants or policies name: ${missingRoles.join(', ')}; nothing was changed`,
        "pass --create-roles to create them from the backup's globals (NOLOGIN, without passwords), " +
          'or --no-owner / --no-privileges to restore without owners or grants' +
          (neededRoles(manifest, tocLines, { owners: false, privileges: false }).some((r) =>
            missingRoles.includes(r),
          )
            ? ' (roles named in row-level security policies are needed either way: --create-roles, or create them first)'
            : ''),
      );
    }
    if (config.dryRun) {
      result.ok = true;
      if (missingRoles.length) {
        result.nextSteps.push(
          `the target lacks role(s) ${missingRoles.join(', ')}: the restore needs --create-roles (or --no-owner / --no-privileges)`,
        );
      }
      result.nextSteps.push(erasurePlanNote(ledger.length, config.noErasures));
      result.nextSteps.push('dry run: nothing was changed');
      return result;
    }
    if (missingRoles.length) {
      const created = await logger.group('create the missing roles (NOLOGIN, no passwords)', () =>
        createRolesFromBackup(config, manifest, missingRoles, logger),
      );
      result.createdRoles = created;
      result.nextSteps.push(
        `created role(s) ${created.join(', ')} NOLOGIN and without passwords: give the ones that log in a password and LOGIN (ALTER ROLE … LOGIN PASSWORD …)`,
      );
    }

    const jobs = config.jobs ?? Math.max(1, cpus().length);
    // A selective restore runs pg_restore with one job.
    await writeDumpOffsets(fetched.dumpFile, selective ? 1 : jobs, phases, logger);
    if (selective) {
      await restoreSelected(config, {
        pgRestore,
        dumpFile: fetched.dumpFile,
        side: side!,
        chosen: chosenTables,
        manifest,
        keep,
        result,
        phases,
        logger,
      });
    } else {
      if (userTables > 0 && config.safetyBackup) {
        const encryption = config.keys.passphrase
          ? { mode: 'age' as const, recipients: [], passphrase: config.keys.passphrase }
          : { mode: 'age' as const, recipients: config.keys.identities.map(recipientOf) };
        if (!config.keys.passphrase && encryption.recipients.length === 0) {
          throw new RestoreRefusedError('a safety backup needs a key to encrypt to, and none is configured', {
            hint: 'give the identity (it also encrypts the safety backup), or pass --no-safety-backup',
          });
        }
        const safety: BackupResult = await logger.group(`safety backup of ${config.target.database}`, () =>
          runBackup(
            {
              connection: config.target,
              destinations: [config.safetyStorage ?? config.storage],
              prefix: 'pre-restore',
              compression: 'auto',
              encryption,
            },
            { logger },
          ),
        );
        result.safetyBackup = {
          id: safety.id,
          destination: (config.safetyStorage ?? config.storage).display,
        };
        logger.info(`safety backup ${safety.id} stored in ${result.safetyBackup.destination}`);
      }
      if (!targetExists) await createDatabaseIfMissing(config.target, config.target.database);
      const outcome = await logger.group(`pg_restore -j${jobs} into ${config.target.database}`, () =>
        phases.time('restore', () =>
          runPgRestore(pgRestore, config.target, fetched.dumpFile!, {
            jobs,
            noOwner: !keep.owners,
            noPrivileges: !keep.privileges,
            extraArgs: userTables > 0 ? ['--clean', '--if-exists'] : [],
          }),
        ),
      );
      result.restored = outcome.ok;
      if (!outcome.ok) {
        reasons.push(
          `the restore failed; first error: ${outcome.firstError ?? outcome.errors[0]}`,
          `pg_restore reported errors:\n${outcome.errors.map((l) => `    ${l}`).join('\n')}`,
        );
      } else {
        // The row counts go over as many connections as the restore had jobs.
        const counting = Math.min(jobs, manifest.inventory.tables.length);
        await withConnections(config.target, counting, async (c, counters) => {
          result.validation = await validateRestored(c, manifest.inventory, {
            minTables: config.minTables,
            checks: [],
            counters,
          });
          reasons.push(...result.validation.reasons);
          result.objects = await compareObjects(c, manifest.inventory, keep);
          const objectProblems = objectReasons(result.objects);
          // Over a database that held other objects, they remain: differences are reported, not fatal.
          if (userTables === 0) reasons.push(...objectProblems);
          else for (const p of objectProblems) result.nextSteps.push(`check: ${p}`);
        });
      }
    }
    const partsDone = await restoreParts(config, manifest, logger);
    if (config.files || config.redis) result.parts = partsDone.parts;
    reasons.push(...partsDone.reasons);
    if (result.restored) {
      const target = selective ? withDatabase(config.target, side!) : config.target;
      await restoreErasures(ledger, target, config.noErasures, result, logger);
    }
    result.ok = result.restored && reasons.length === 0;
    return result;
  } finally {
    await cleanup.run();
  }
}

/** Creates `names` in the target server from the backup's globals (bare NOLOGIN roles for a manifest@1). */
async function createRolesFromBackup(
  config: RestoreConfig,
  manifest: Manifest,
  names: string[],
  logger: Logger,
): Promise<string[]> {
  const fetched = await fetchVerifiedGlobals(config.storage, manifest, config.keys);
  const globals: Globals = fetched?.globals ?? { roles: [], memberships: [], settings: [], tablespaces: [] };
  const known = new Set(globals.roles.map((r) => r.name));
  for (const n of names) {
    if (!known.has(n)) {
      globals.roles.push({
        name: n,
        superuser: false,
        inherit: true,
        createRole: false,
        createDb: false,
        login: false,
        replication: false,
        bypassRls: false,
        connectionLimit: -1,
        validUntil: null,
      });
    }
  }
  const admin = await connect(withDatabase(config.target, 'postgres')).catch(async () =>
    connect(config.target),
  );
  try {
    const made = await createMissingRoles(admin, globals, { only: new Set(names) });
    for (const w of made.warnings) logger.warn(w);
    const failed = names.filter((n) => !made.created.includes(n));
    if (failed.length) {
      throw new RestoreRefusedError(`could not create role(s) ${failed.join(', ')} in the target server`, {
        hint: 'the target user needs CREATEROLE (or superuser); or create the roles yourself and run the restore again',
      });
    }
    logger.info(`created role(s) ${made.created.join(', ')} (NOLOGIN, no passwords)`);
    return made.created;
  } finally {
    await admin.end();
  }
}

interface SelectedRestore {
  pgRestore: ToolInfo;
  dumpFile: string;
  side: string;
  chosen: TableName[];
  manifest: Manifest;
  keep: { owners: boolean; privileges: boolean };
  result: RestoreResult;
  phases: Phases;
  logger: Logger;
}

/**
 * A selective restore into a side database: the whole pre-data section (every schema, type,
 * domain, enum, sequence, function and extension a table can need, and every table, empty),
 * then the data of just the chosen tables and every sequence's value, then the post-data
 * section (indexes, constraints, triggers) without refreshing materialized views, and finally
 * foreign keys where they hold. On failure the side database is dropped.
 */
async function restoreSelected(config: RestoreConfig, s: SelectedRestore): Promise<void> {
  const { result, logger } = s;
  const reasons = result.reasons;
  const sideConn = withDatabase(config.target, s.side);
  await createDatabaseIfMissing(config.target, s.side);
  const work = mkdtempSync(join(tmpdir(), 'lms-selective-'));
  const opts = { jobs: 1, noOwner: !s.keep.owners, noPrivileges: !s.keep.privileges };
  const step = async (what: string, extraArgs: string[]) => {
    const outcome = await logger.group(`${what} into ${s.side}`, () =>
      s.phases.time('restore', () => runPgRestore(s.pgRestore, sideConn, s.dumpFile, { ...opts, extraArgs })),
    );
    if (!outcome.ok) throw new SelectiveStepError(what, outcome);
  };
  const listFile = (name: string, lines: string[]) => {
    const f = join(work, name);
    writeFileSync(f, `${lines.join('\n')}\n`, { mode: 0o600 });
    return f;
  };
  try {
    await step('schema (pre-data)', ['--section=pre-data']);
    const all = (await listArchive(s.pgRestore, s.dumpFile)).map(parseTocLine).filter((e) => e !== undefined);
    const isChosenData = (e: TocEntry) =>
      e.kind === 'TABLE DATA' && s.chosen.some((t) => e.rest.startsWith(`${t.schema} ${t.name} `));
    const data = all.filter((e) => isChosenData(e) || e.kind === 'SEQUENCE SET');
    await step('data of the chosen tables', [
      '-L',
      listFile(
        'data.list',
        data.map((e) => e.line),
      ),
    ]);
    const post = (await listArchive(s.pgRestore, s.dumpFile, ['--section=post-data']))
      .map(parseTocLine)
      .filter((e) => e !== undefined);
    const postLines = post.filter((e) => e.kind !== 'FK CONSTRAINT' && e.kind !== 'MATERIALIZED VIEW DATA');
    if (postLines.length)
      await step('indexes, constraints, triggers (post-data)', [
        '-L',
        listFile(
          'post.list',
          postLines.map((e) => e.line),
        ),
      ]);
    const fks = post.filter((e) => e.kind === 'FK CONSTRAINT');
    if (fks.length) {
      const fk = await runPgRestore(s.pgRestore, sideConn, s.dumpFile, {
        ...opts,
        exitOnError: false,
        extraArgs: [
          '-L',
          listFile(
            'fk.list',
            fks.map((e) => e.line),
          ),
        ],
      });
      if (!fk.ok)
        result.nextSteps.push(
          `some foreign keys were not created in the side database (they point at tables restored empty): ${fk.firstError ?? fk.errors[0]}`,
        );
    }
    result.restored = true;
  } catch (error) {
    await dropDatabase(config.target, s.side).catch((e: unknown) =>
      logger.warn(`could not drop the side database ${s.side}: ${describe(e)}`),
    );
    if (error instanceof SelectiveStepError) {
      reasons.push(
        `the selective restore failed in step "${error.step}"; the side database ${s.side} was dropped; first error: ${error.outcome.firstError ?? error.outcome.errors[0]}`,
      );
      return;
    }
    throw error;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const chosenInventory: Inventory = {
    ...s.manifest.inventory,
    tables: s.manifest.inventory.tables.filter((t) =>
      s.chosen.some((c) => c.schema === t.schema && c.name === t.name),
    ),
    extensions: [],
  };
  chosenInventory.tableCount = chosenInventory.tables.length;
  const c = await connect(sideConn);
  try {
    const v = await validateRestored(c, chosenInventory, { minTables: 0, checks: [] });
    // Only the chosen tables count: the others are in the side database too, empty by design.
    v.tables = v.tables.filter((t) => t.expected !== null);
    v.reasons = v.reasons.filter((r) => !/^only \d+ table/.test(r));
    result.validation = v;
    reasons.push(...v.reasons);
  } finally {
    await c.end();
  }
  const sideUrl = describeConnection(sideConn);
  const first = s.chosen[0]!;
  result.nextSteps.push(
    `the restored rows are in the side database ${s.side} (${sideUrl}); the live tables were not touched`,
    `the side database holds the whole schema so every dependency resolves; only ${s.chosen.map((t) => `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`).join(', ')} have rows`,
    `compare, e.g.: psql "${sideUrl}" -c 'SELECT count(*) FROM ${quoteIdent(first.schema)}.${quoteIdent(first.name)}'`,
    `copy rows back selectively, e.g.: pg_dump --data-only --table '${quoteIdent(first.schema)}.${quoteIdent(first.name)}' "${sideUrl}" > rows.sql, edit, then psql the target`,
    `drop the side database when done: DROP DATABASE ${quoteIdent(s.side)};`,
  );
}

class SelectiveStepError extends Error {
  constructor(
    readonly step: string,
    readonly outcome: RestoreOutcome,
  ) {
    super(`${step} failed`);
  }
}

async function dropDatabase(conn: PgConnection, database: string): Promise<void> {
  const admin = await connect(withDatabase(conn, 'postgres'));
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

export function assertRestoreOk(result: RestoreResult): void {
  if (!result.ok && !result.dryRun) {
    throw new JobFailedError(`restore of ${result.plan.backupId} failed:\n  ${result.reasons.join('\n  ')}`);
  }
}
