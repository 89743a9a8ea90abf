/**
 * Resolved options → each command's typed configuration, the same for the CLI and the action.
 * Every problem goes into the run's one Problems and is reported together, once; secrets are
 * handed to the masker the moment they are read.
 */
import { resolve } from 'node:path';
import { type RetentionPolicy, retentionPolicy } from '../catalog/retention.js';
import type { BackupConfig } from '../commands/backup.js';
import type { DrillConfig } from '../commands/drill.js';
import { notifiersFromEnv } from '../commands/recorded.js';
import type { ReportFormat } from '../commands/report.js';
import type { RestoreConfig } from '../commands/restore.js';
import { runDestinations } from '../commands/run-context.js';
import type { VerifyConfig } from '../commands/verify.js';
import {
  type DecryptionKeys,
  openDestinations,
  prepareLocalDestinations,
  recordableDestinations,
  requireExistingDestinations,
  resolveDecryption,
  resolveEncryption,
} from '../config.js';
import type { ForgetConfig } from '../erasure/forget.js';
import type { Logger } from '../log.js';
import { type PgConnection, resolveConnection } from '../postgres/connection.js';
import { loadHealthChecks } from '../postgres/validate.js';
import type { FailOnCondition } from '../report/metrics.js';
import type { NotifierConfig } from '../report/notify.js';
import type { Storage } from '../storage/types.js';
import type { OptionValues } from './values.js';

/** Registers secrets as they are read (the action masks them; the CLI has nothing to mask). */
export interface Masker {
  add(value: string | undefined): void;
  addConnectionUrl(url: string | undefined): void;
  addStorageLocation(location: string): void;
}

export const NO_MASK: Masker = { add() {}, addConnectionUrl() {}, addStorageLocation() {} };

export interface SettingsContext {
  env: NodeJS.ProcessEnv;
  logger: Logger;
  mask: Masker;
  /** The action requires a database in effect; the CLI may use libpq's defaults (a local socket). */
  requireConnection: boolean;
}

function connection(
  v: OptionValues,
  ctx: SettingsContext,
  name: 'database-url' | 'target-url',
): PgConnection | undefined {
  const r = v.raw(name);
  const url = r?.raw as string | undefined;
  ctx.mask.addConnectionUrl(url);
  if (r?.origin === 'flag' && url && /\/\/[^/@]*:[^/@]*@/.test(url)) {
    ctx.logger.warn(
      `${r.name} holds a password, which other users of this machine can see in the process list: prefer PGPASSWORD`,
    );
  }
  const label = v.nameOf(name);
  if (ctx.requireConnection && !url && !ctx.env.PGHOST && !ctx.env.PGDATABASE) {
    v.problems.add(
      `${label} is required (no ${label} input, and no ${[...(name === 'database-url' ? ['LMS_BACKUP_DATABASE_URL', 'DATABASE_URL'] : ['LMS_BACKUP_TARGET_URL']), 'PGHOST', 'PGDATABASE'].join(', ')} in the environment)`,
      `set ${label}: postgresql://user@host:5432/db (from a secret), or the PG* variables in the step env; put the password in PGPASSWORD`,
    );
  }
  return v.problems.try(() => resolveConnection(url, ctx.env, label));
}

function secret(v: OptionValues, ctx: SettingsContext, name: 'passphrase' | 'identity'): string | undefined {
  const value = v.get(name);
  ctx.mask.add(value);
  return value || undefined;
}

function path(
  v: OptionValues,
  name: 'identity-file' | 'recipients-file' | 'checks' | 'report-dir',
): string | undefined {
  const p = v.get(name);
  return p ? resolve(p) : undefined;
}

function decryption(v: OptionValues, ctx: SettingsContext): DecryptionKeys {
  const keys = resolveDecryption(
    {
      identityFile: path(v, 'identity-file'),
      identity: secret(v, ctx, 'identity'),
      passphrase: secret(v, ctx, 'passphrase'),
    },
    v.problems,
    { identityFile: v.nameOf('identity-file'), identity: v.nameOf('identity') },
  );
  for (const id of keys.identities) ctx.mask.add(id);
  return keys;
}

async function destinations(
  v: OptionValues,
  ctx: SettingsContext,
  name: 'destinations' | 'from' | 'safety-to',
  one: boolean,
): Promise<Storage[]> {
  const list = v.get(name) ?? [];
  const label = v.nameOf(name);
  if (one && list.length > 1) {
    v.problems.add(`${label} takes one destination (got ${list.length})`, 'use one step per destination');
  }
  for (const d of list) ctx.mask.addStorageLocation(d);
  const stores = await openDestinations(one ? list.slice(0, 1) : list, v.problems, {
    env: ctx.env,
    logger: ctx.logger,
    inputName: label,
  });
  // Where to read from must exist; where a run is recorded is known before it starts.
  if (name === 'from' && list.length === 1) {
    requireExistingDestinations(stores, label, v.problems);
    runDestinations(recordableDestinations(stores));
  }
  return stores;
}

function notifiers(v: OptionValues, ctx: SettingsContext): NotifierConfig[] {
  const sev = v.get('notify-min-severity');
  if (sev === undefined) return [];
  const list = notifiersFromEnv(ctx.env, sev);
  for (const n of list) ctx.mask.add(n.url);
  return list;
}

function selection(v: OptionValues, verifiedOnly = false) {
  const before = v.get('before');
  const backup = v.get('backup');
  if (v.given('before') && v.given('backup') && backup !== 'latest') {
    v.problems.add(
      `${v.nameOf('before')} and ${v.nameOf('backup')} ${backup} both choose a backup`,
      `give one: ${v.nameOf('backup')} <id> for that backup, or ${v.nameOf('before')} <time> for the newest one taken by then`,
    );
  }
  return {
    name: v.get('backup') ?? 'latest',
    ...(before ? { before } : {}),
    ...(verifiedOnly ? { verifiedOnly: true } : {}),
  };
}

// ---------------------------------------------------------------------------------------------

export interface BackupSettings {
  config: BackupConfig;
  notifiers: NotifierConfig[];
  /** Where it goes, for the summary (credentials stripped). */
  displays: string[];
}

export async function backupSettings(v: OptionValues, ctx: SettingsContext): Promise<BackupSettings> {
  const conn = connection(v, ctx, 'database-url');
  const prefix = v.get('prefix');
  const compression = v.get('compression');
  const minBytes = v.get('min-bytes');
  const passphrase = secret(v, ctx, 'passphrase');
  const encryptionOn = v.get('encryption');
  const encryption =
    encryptionOn === undefined
      ? undefined
      : resolveEncryption(
          {
            recipients: v.get('recipients') ?? [],
            recipientsFile: path(v, 'recipients-file'),
            passphrase,
            noEncryption: !encryptionOn,
            names: {
              recipients: v.nameOf('recipients'),
              recipientsFile: v.nameOf('recipients-file'),
              passphrase: v.nameOf('passphrase'),
              noEncryption:
                v.raw('encryption')?.origin === 'flag'
                  ? '--no-encryption'
                  : `${v.nameOf('encryption')}: false`,
            },
          },
          v.problems,
        );
  const notify = notifiers(v, ctx);
  const stores = await destinations(v, ctx, 'destinations', false);
  runDestinations(recordableDestinations(stores));
  v.problems.throwIfAny();
  prepareLocalDestinations(stores, v.nameOf('destinations'));
  return {
    config: {
      connection: conn!,
      destinations: stores,
      prefix: prefix!,
      compression: compression!,
      encryption: encryption!,
      anomaly: { minBytes: minBytes! },
    },
    notifiers: notify,
    displays: stores.map((d) => d.display),
  };
}

export interface DrillSettings {
  config: DrillConfig;
  notifiers: NotifierConfig[];
  uploadReport: boolean;
}

export async function drillSettings(
  v: OptionValues,
  ctx: SettingsContext,
  options: { defaultReportDir?: string } = {},
): Promise<DrillSettings> {
  const keys = decryption(v, ctx);
  const engine = v.get('engine');
  const minTables = v.get('min-tables');
  const jobs = v.get('jobs');
  const major = v.get('postgres-major');
  const rto = v.get('rto');
  const rpo = v.get('rpo');
  const sel = selection(v);
  const checksPath = path(v, 'checks');
  const checks = checksPath
    ? (v.problems.try(() => loadHealthChecks(checksPath, v.nameOf('checks'))) ?? [])
    : [];
  const image = v.get('image');
  const uploadReport = v.get('upload-report');
  const reportDir =
    path(v, 'report-dir') ?? (options.defaultReportDir ? resolve(options.defaultReportDir) : undefined);
  const notify = notifiers(v, ctx);
  const noErasures = v.get('erasures') === false;
  const [storage] = await destinations(v, ctx, 'from', true);
  v.problems.throwIfAny();
  return {
    config: {
      ...(noErasures ? { noErasures: true } : {}),
      storage: storage!,
      selection: sel,
      keys,
      engine: engine!,
      ...(major ? { postgresMajor: major } : {}),
      ...(image ? { image } : {}),
      minTables: minTables!,
      checks,
      ...(jobs ? { jobs } : {}),
      rtoSeconds: rto!,
      rpoSeconds: rpo!,
      ...(reportDir ? { localReportDir: reportDir } : {}),
    },
    notifiers: notify,
    uploadReport: uploadReport ?? false,
  };
}

export async function verifySettings(v: OptionValues, ctx: SettingsContext): Promise<VerifyConfig> {
  const keys = decryption(v, ctx);
  const sel = selection(v);
  const [storage] = await destinations(v, ctx, 'from', true);
  v.problems.throwIfAny();
  return { storage: storage!, selection: sel, keys };
}

export async function restoreSettings(v: OptionValues, ctx: SettingsContext): Promise<RestoreConfig> {
  const keys = decryption(v, ctx);
  const target = connection(v, ctx, 'target-url');
  const sel = selection(v, v.get('verified-only') === true);
  const jobs = v.get('jobs');
  const minTables = v.get('min-tables');
  const safetyBackup = v.get('safety-backup');
  const force = v.get('force');
  const dryRun = v.get('dry-run');
  const confirm = v.get('confirm');
  const createRoles = v.get('create-roles');
  const noOwner = v.get('no-owner');
  const noPrivileges = v.get('no-privileges');
  const noErasures = v.get('erasures') === false;
  const [storage] = await destinations(v, ctx, 'from', true);
  const [safety] = v.get('safety-to')?.length ? await destinations(v, ctx, 'safety-to', true) : [undefined];
  v.problems.throwIfAny();
  return {
    storage: storage!,
    selection: sel,
    keys,
    target: target!,
    ...(confirm !== undefined ? { confirm } : {}),
    safetyBackup: safetyBackup!,
    ...(safety ? { safetyStorage: safety } : {}),
    force: force!,
    dryRun: dryRun!,
    tables: v.get('tables') ?? [],
    schemas: v.get('schemas') ?? [],
    ...(jobs ? { jobs } : {}),
    minTables: minTables!,
    createRoles: createRoles!,
    noOwner: noOwner!,
    noPrivileges: noPrivileges!,
    ...(noErasures ? { noErasures: true } : {}),
  };
}

/**
 * `forget`: the live database is used only when one is named (database-url, its environment
 * variables, PGHOST or PGDATABASE): to check the keys, and for `apply`.
 */
export async function forgetSettings(v: OptionValues, ctx: SettingsContext): Promise<ForgetConfig> {
  const named = v.given('database-url') || Boolean(ctx.env.PGHOST || ctx.env.PGDATABASE);
  const conn = named ? connection(v, ctx, 'database-url') : undefined;
  const tables = v.get('tables') ?? [];
  if (tables.length !== 1) {
    v.problems.add(
      tables.length === 0
        ? `${v.nameOf('tables')} is required: the table the erased rows are in`
        : `${v.nameOf('tables')} takes one table per erasure request (got ${tables.length})`,
      'e.g. --table public.users; run forget once per table',
    );
  }
  const reference = v.get('reference');
  if (!reference) {
    v.problems.add(
      `${v.nameOf('reference')} is required: the erasure request's reference`,
      'give its ticket id, e.g. --reference GDPR-2024-017',
    );
  }
  const keys = v.get('keys') ?? [];
  const keysFile = v.get('keys-file');
  if (keys.length === 0 && !keysFile) {
    v.problems.add(
      `no key to erase: give ${v.nameOf('keys')} column=value or ${v.nameOf('keys-file')}`,
      'e.g. --key id=42 (repeatable), or --keys-file keys.csv with a header row naming the key columns',
    );
  }
  const apply = v.get('apply') ?? false;
  if (apply && !conn) {
    v.problems.add(
      `${v.nameOf('apply')} needs the live database`,
      `give ${v.nameOf('database-url')} (or the PG* variables), or leave ${v.nameOf('apply')} out to record the erasure only`,
    );
  }
  const passphrase = secret(v, ctx, 'passphrase');
  const encryptionOn = v.get('encryption');
  const encryption =
    encryptionOn === undefined
      ? undefined
      : resolveEncryption(
          {
            recipients: v.get('recipients') ?? [],
            recipientsFile: path(v, 'recipients-file'),
            passphrase,
            noEncryption: !encryptionOn,
            names: {
              recipients: v.nameOf('recipients'),
              recipientsFile: v.nameOf('recipients-file'),
              passphrase: v.nameOf('passphrase'),
              noEncryption:
                v.raw('encryption')?.origin === 'flag'
                  ? '--no-encryption'
                  : `${v.nameOf('encryption')}: false`,
            },
          },
          v.problems,
        );
  const stores = await destinations(v, ctx, 'destinations', false);
  requireExistingDestinations(stores, v.nameOf('destinations'), v.problems);
  runDestinations(recordableDestinations(stores));
  v.problems.throwIfAny();
  return {
    destinations: stores,
    encryption: encryption!,
    table: tables[0]!,
    keys,
    ...(keysFile ? { keysFile: resolve(keysFile) } : {}),
    reference: reference!,
    apply,
    ...(conn ? { database: conn } : {}),
  };
}

export interface PruneSettings {
  storages: Storage[];
  policy: RetentionPolicy;
  dryRun: boolean;
}

export async function pruneSettings(v: OptionValues, ctx: SettingsContext): Promise<PruneSettings> {
  const fields = [
    ['keepDays', 'keep-days'],
    ['keepDaily', 'keep-daily'],
    ['keepWeekly', 'keep-weekly'],
    ['keepMonthly', 'keep-monthly'],
    ['keepMin', 'keep-min'],
  ] as const;
  const given: Partial<RetentionPolicy> = {};
  let allParsed = true;
  for (const [field, name] of fields) {
    const n = v.get(name);
    if (n === undefined) allParsed = false;
    else given[field] = n;
  }
  const policy = allParsed ? v.problems.try(() => retentionPolicy(given)) : undefined;
  const dryRun = v.get('dry-run');
  const storages = await destinations(v, ctx, 'destinations', false);
  requireExistingDestinations(storages, v.nameOf('destinations'), v.problems);
  runDestinations(recordableDestinations(storages));
  v.problems.throwIfAny();
  return { storages, policy: policy!, dryRun: dryRun! };
}

export interface ReportSettings {
  storages: Storage[];
  windowDays: number;
  rpoSeconds: number;
  rtoSeconds: number;
  keepDays: number;
  /** prune's other keeps, for the dates erasures leave the backups. */
  retention: Partial<RetentionPolicy>;
  failOn: FailOnCondition[];
  /** No directory: no files (the CLI's default). */
  outDir?: string;
  formats: ReportFormat[];
  uploadReport: boolean;
}

export async function reportSettings(v: OptionValues, ctx: SettingsContext): Promise<ReportSettings> {
  const windowDays = v.get('window-days');
  const rpo = v.get('rpo');
  const rto = v.get('rto');
  const keepDays = v.get('keep-days');
  const retention: Partial<RetentionPolicy> = {};
  for (const [field, name] of [
    ['keepDaily', 'keep-daily'],
    ['keepWeekly', 'keep-weekly'],
    ['keepMonthly', 'keep-monthly'],
    ['keepMin', 'keep-min'],
  ] as const) {
    const n = v.get(name);
    if (n !== undefined) retention[field] = n;
  }
  const failOn = v.get('fail-on') ?? [];
  const formats = v.get('formats') ?? [];
  const uploadReport = v.get('upload-report');
  const outDir = v.get('output-dir');
  const storages = await destinations(v, ctx, 'destinations', false);
  v.problems.throwIfAny();
  return {
    storages,
    windowDays: windowDays!,
    rpoSeconds: rpo!,
    rtoSeconds: rto!,
    keepDays: keepDays!,
    retention,
    failOn,
    ...(outDir ? { outDir: resolve(outDir) } : {}),
    formats,
    uploadReport: uploadReport ?? false,
  };
}
