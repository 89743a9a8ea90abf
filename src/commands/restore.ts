import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { listBackups, type Selection, selectBackup } from '../catalog/catalog.js';
import { utcStamp } from '../catalog/names.js';
import type { Inventory, Manifest } from '../catalog/types.js';
import type { DecryptionKeys } from '../config.js';
import { recipientOf } from '../crypto/age.js';
import { registerTeardown } from '../engines/teardown.js';
import { ConfigError, JobFailedError } from '../errors.js';
import type { Logger } from '../log.js';
import { connect, createDatabaseIfMissing, quoteIdent, serverInfo } from '../postgres/client.js';
import { describeConnection, type PgConnection, withDatabase } from '../postgres/connection.js';
import { listTables } from '../postgres/inventory.js';
import { listArchive, runPgRestore, summariseToc } from '../postgres/restore.js';
import { findClientTool, parseToolVersion } from '../postgres/tools.js';
import { type Validation, validateRestored } from '../postgres/validate.js';
import type { Storage } from '../storage/types.js';
import { type BackupResult, runBackup } from './backup.js';
import { fetchVerifiedDump, Phases } from './fetch.js';

export interface RestoreConfig {
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
  toc: Record<string, number>;
}

export interface RestoreResult {
  plan: RestorePlan;
  dryRun: boolean;
  safetyBackup?: { id: string; destination: string };
  restored: boolean;
  validation?: Validation;
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

function parseTableNames(tables: string[]): { schema?: string; name: string }[] {
  return tables.map((t) => {
    const i = t.indexOf('.');
    return i > 0 ? { schema: t.slice(0, i), name: t.slice(i + 1) } : { name: t };
  });
}

/**
 * Restores a backup into a real target, with the safety checks of DESIGN.md §2: a target
 * holding any user table is refused unless `confirm` names it exactly; a safety backup of it is
 * taken first; an older target major is refused unless forced; a selective restore goes to a
 * side database, never over the live tables. Afterwards the drill's validations run.
 */
export async function runRestore(
  config: RestoreConfig,
  deps: { logger: Logger; now?: () => Date },
): Promise<RestoreResult> {
  const { logger } = deps;
  const now = deps.now ?? (() => new Date());
  const phases = new Phases();
  const entry = selectBackup(await listBackups(config.storage), config.selection, config.storage.display);
  const manifest = entry.manifest as Manifest;
  const selective = config.tables.length > 0 || config.schemas.length > 0;
  const reasons: string[] = [];

  // The target server: version, whether the database exists and holds user tables.
  const admin = await connect(withDatabase(config.target, 'postgres')).catch(async () =>
    connect(config.target),
  );
  let info: Awaited<ReturnType<typeof serverInfo>>;
  let targetExists: boolean;
  try {
    info = await serverInfo(admin);
    const r = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [config.target.database]);
    targetExists = (r.rowCount ?? 0) > 0;
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
  const backupMajor = Math.floor(manifest.source.serverVersionNum / 10000);
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
    const dumpMajor = parseToolVersion(`(PostgreSQL) ${manifest.tool.pgDumpVersion}`)?.major ?? 0;
    const pgRestore = await findClientTool('pg_restore', Math.max(dumpMajor, 0), manifest.tool.pgDumpVersion);
    const toc = fetched.dumpFile ? summariseToc(await listArchive(pgRestore, fetched.dumpFile)) : {};
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
      toc,
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
    if (config.dryRun) {
      result.ok = true;
      result.nextSteps.push('dry run: nothing was changed');
      return result;
    }

    const jobs = config.jobs ?? Math.max(1, cpus().length);
    if (selective) {
      // Into a side database: the live tables are never touched.
      await createDatabaseIfMissing(config.target, side!);
      const sideConn = withDatabase(config.target, side!);
      const wanted = parseTableNames(config.tables);
      const schemas = [
        ...new Set([...config.schemas, ...wanted.flatMap((t) => (t.schema ? [t.schema] : []))]),
      ];
      const args = [
        ...schemas.flatMap((s) => ['--schema', s]),
        ...wanted.flatMap((t) => ['--table', t.name]),
      ];
      const outcome = await logger.group(`pg_restore selected tables into ${side}`, () =>
        phases.time('restore', () =>
          runPgRestore(pgRestore, sideConn, fetched.dumpFile!, { jobs: 1, extraArgs: args }),
        ),
      );
      result.restored = outcome.ok;
      if (!outcome.ok)
        reasons.push(`pg_restore reported errors:\n${outcome.errors.map((l) => `    ${l}`).join('\n')}`);
      const chosen: Inventory = {
        ...manifest.inventory,
        tables: manifest.inventory.tables.filter(
          (t) =>
            (wanted.length === 0 ||
              wanted.some((w) => w.name === t.name && (!w.schema || w.schema === t.schema))) &&
            (schemas.length === 0 || schemas.includes(t.schema)),
        ),
        extensions: [],
      };
      chosen.tableCount = chosen.tables.length;
      const c = await connect(sideConn);
      try {
        result.validation = await validateRestored(c, chosen, { minTables: 0, checks: [] });
      } finally {
        await c.end();
      }
      reasons.push(...result.validation.reasons);
      if (chosen.tables.length === 0) reasons.push('none of the requested tables is in the backup');
      const sideUrl = describeConnection(sideConn);
      result.nextSteps.push(
        `the restored rows are in the side database ${side} (${sideUrl}); the live tables were not touched`,
        `compare, e.g.: psql "${sideUrl}" -c "SELECT count(*) FROM ${chosen.tables[0] ? `${chosen.tables[0].schema}.${chosen.tables[0].name}` : '<table>'}"`,
        `copy rows back selectively, e.g.: pg_dump --data-only --table <schema.table> "${sideUrl}" > rows.sql, edit, then psql the target`,
        `drop the side database when done: DROP DATABASE ${quoteIdent(side!)};`,
      );
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
            extraArgs: userTables > 0 ? ['--clean', '--if-exists'] : [],
          }),
        ),
      );
      result.restored = outcome.ok;
      if (!outcome.ok)
        reasons.push(`pg_restore reported errors:\n${outcome.errors.map((l) => `    ${l}`).join('\n')}`);
      const c = await connect(config.target);
      try {
        result.validation = await validateRestored(c, manifest.inventory, {
          minTables: config.minTables,
          checks: [],
        });
      } finally {
        await c.end();
      }
      reasons.push(...result.validation.reasons);
    }
    result.ok = result.restored && reasons.length === 0;
    return result;
  } finally {
    await cleanup.run();
  }
}

export function assertRestoreOk(result: RestoreResult): void {
  if (!result.ok && !result.dryRun) {
    throw new JobFailedError(`restore of ${result.plan.backupId} failed:\n  ${result.reasons.join('\n  ')}`);
  }
}
