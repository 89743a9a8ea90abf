/**
 * Resolved options → each command's typed configuration, the same for the CLI and the action.
 * Every problem goes into the run's one Problems and is reported together, once; secrets are
 * handed to the masker the moment they are read.
 */
import { resolve } from 'node:path';
import { type RetentionPolicy, retentionPolicy } from '../catalog/retention.js';
import type { BackupConfig } from '../commands/backup.js';
import type { CheckConfig } from '../commands/check.js';
import type { DrillConfig } from '../commands/drill.js';
import type { ReportFormat } from '../commands/report.js';
import type { RestoreConfig } from '../commands/restore.js';
import { runDestinations } from '../commands/run-context.js';
import type { VerifyConfig } from '../commands/verify.js';
import {
  type DecryptionKeys,
  openDestinations,
  prepareLocalDestinations,
  requireExistingDestinations,
  resolveDecryption,
  resolveEncryption,
} from '../config.js';
import type { ForgetConfig } from '../erasure/forget.js';
import { checkRoots } from '../files/archive.js';
import type { Logger } from '../log.js';
import type { PartsRestoreConfig } from '../parts/restore.js';
import { type ComposeOptions, composeRequestConnection } from '../postgres/compose.js';
import { type PgConnection, resolveConnection } from '../postgres/connection.js';
import { loadHealthChecks } from '../postgres/validate.js';
import { parseRedisUrl } from '../redis/client.js';
import type { FailOnCondition } from '../report/metrics.js';
import { type NotifierConfig, validateNotifier } from '../report/notify.js';
import { openStorage, storageTimeouts, storageTimeoutsFromEnv } from '../storage/index.js';
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
  // Compose mode for the commands that take it (backup, restore), which resolve the route when they run.
  const compose = v.takes('compose-file') ? composeOptions(v) : undefined;
  if (compose) return v.problems.try(() => composeRequestConnection(compose, url, ctx.env, label));
  if (ctx.requireConnection && !url && !ctx.env.PGHOST && !ctx.env.PGDATABASE) {
    v.problems.add(
      `${label} is required (no ${label} input, and no ${[...(name === 'database-url' ? ['LMS_BACKUP_DATABASE_URL', 'DATABASE_URL'] : ['LMS_BACKUP_TARGET_URL']), 'PGHOST', 'PGDATABASE'].join(', ')} in the environment)`,
      `set ${label}: postgresql://user@host:5432/db (from a secret), or the PG* variables in the step env; put the password in PGPASSWORD`,
    );
  }
  return v.problems.try(() => resolveConnection(url, ctx.env, label));
}

/** files, files-exclude, redis-url: the backup's other parts (src/parts). */
function backupParts(v: OptionValues, ctx: SettingsContext): Pick<BackupConfig, 'files' | 'redis'> {
  const files = v.get('files') ?? [];
  const excludes = v.get('files-exclude') ?? [];
  const url = v.get('redis-url');
  ctx.mask.addConnectionUrl(url);
  ctx.mask.add(ctx.env.LMS_BACKUP_REDIS_PASSWORD);
  const roots = files.length ? v.problems.try(() => checkRoots(files, v.nameOf('files'))) : undefined;
  if (excludes.length && !files.length) {
    v.problems.add(
      `${v.nameOf('files-exclude')} is given without ${v.nameOf('files')}`,
      `give ${v.nameOf('files')} <path> too, or leave it out`,
    );
  }
  const redis = url ? v.problems.try(() => parseRedisUrl(url, v.nameOf('redis-url'), ctx.env)) : undefined;
  return { ...(roots ? { files: { roots, excludes } } : {}), ...(redis ? { redis } : {}) };
}

/** files-to, files-path, redis-to; without target-url (flag, input, file or env) only these are restored. */
function restoreParts(v: OptionValues, ctx: SettingsContext): PartsRestoreConfig {
  const to = v.get('files-to');
  const path = v.get('files-path');
  const url = v.get('redis-to');
  ctx.mask.addConnectionUrl(url);
  ctx.mask.add(ctx.env.LMS_BACKUP_REDIS_PASSWORD);
  if (path && !to) {
    v.problems.add(
      `${v.nameOf('files-path')} is given without ${v.nameOf('files-to')}`,
      `give ${v.nameOf('files-to')} <dir> too`,
    );
  }
  const redis = url ? v.problems.try(() => parseRedisUrl(url, v.nameOf('redis-to'), ctx.env)) : undefined;
  const any = Boolean(to || url);
  return {
    ...(to ? { files: { to, ...(path ? { path } : {}) } } : {}),
    ...(redis && url ? { redis: { to: redis, url } } : {}),
    ...(any && !v.given('target-url') ? { partsOnly: true } : {}),
  };
}

/** Compose mode, when any of compose-file, compose-service, compose-project is given. */
function composeOptions(v: OptionValues): ComposeOptions | undefined {
  const files = v.get('compose-file') ?? [];
  const service = v.get('compose-service');
  const project = v.get('compose-project');
  if (files.length === 0 && !service && !project) return undefined;
  return {
    files: files.map((f) => resolve(f)),
    ...(service ? { service } : {}),
    serviceInput: v.nameOf('compose-service'),
    ...(project ? { project } : {}),
    profiles: v.get('compose-profile') ?? [],
  };
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
    await requireExistingDestinations(stores, label, v.problems);
    runDestinations(stores);
  }
  return stores;
}

/** Where each notifier's URL comes from: webhook URLs are secrets and never go on a command line. */
const NOTIFIER_ENV = {
  slack: 'LMS_BACKUP_SLACK_WEBHOOK_URL',
  teams: 'LMS_BACKUP_TEAMS_WEBHOOK_URL',
  webhook: 'LMS_BACKUP_WEBHOOK_URL',
  heartbeat: 'LMS_BACKUP_HEARTBEAT_URL',
} as const satisfies Record<NotifierConfig['kind'], string>;

/**
 * The notifiers the environment configures. With `problems`, a URL that cannot be one (not
 * http(s)) is refused naming its variable, never showing the URL.
 */
export function notifiersFromEnv(
  env: NodeJS.ProcessEnv,
  minSeverity?: 'critical' | 'warning' | 'info',
  problems?: OptionValues['problems'],
): NotifierConfig[] {
  const out: NotifierConfig[] = [];
  for (const [kind, name] of Object.entries(NOTIFIER_ENV) as [NotifierConfig['kind'], string][]) {
    const url = env[name];
    if (!url) continue;
    const n: NotifierConfig =
      kind === 'heartbeat'
        ? { kind, url, ...(heartbeatMethod(env, problems) ?? {}) }
        : {
            kind,
            url,
            ...(minSeverity ? { minSeverity } : {}),
            ...(kind === 'webhook' && env.LMS_BACKUP_WEBHOOK_AUTHORIZATION
              ? { headers: { authorization: env.LMS_BACKUP_WEBHOOK_AUTHORIZATION } }
              : {}),
          };
    if (problems) {
      const before = problems.list.length;
      problems.try(() => validateNotifier(n, name));
      if (problems.list.length > before) continue;
    }
    out.push(n);
  }
  return out;
}

function heartbeatMethod(
  env: NodeJS.ProcessEnv,
  problems: OptionValues['problems'] | undefined,
): { method: 'GET' | 'POST' } | undefined {
  const m = env.LMS_BACKUP_HEARTBEAT_METHOD?.toUpperCase();
  if (!m) return undefined;
  if (m === 'GET' || m === 'POST') return { method: m };
  problems?.add(`LMS_BACKUP_HEARTBEAT_METHOD must be GET or POST (got "${env.LMS_BACKUP_HEARTBEAT_METHOD}")`);
  return undefined;
}

function notifiers(v: OptionValues, ctx: SettingsContext): NotifierConfig[] {
  const sev = v.get('notify-min-severity');
  if (sev === undefined) return [];
  const list = notifiersFromEnv(ctx.env, sev, v.problems);
  for (const n of list) ctx.mask.add(n.url);
  ctx.mask.add(ctx.env.LMS_BACKUP_WEBHOOK_AUTHORIZATION);
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

/** recipients, recipients-file, passphrase, encryption: how backups (and ledger entries) are encrypted. */
function encryptionOf(v: OptionValues, ctx: SettingsContext) {
  const passphrase = secret(v, ctx, 'passphrase');
  const on = v.get('encryption');
  if (on === undefined) return undefined;
  return resolveEncryption(
    {
      recipients: v.get('recipients') ?? [],
      recipientsFile: path(v, 'recipients-file'),
      passphrase,
      noEncryption: !on,
      names: {
        recipients: v.nameOf('recipients'),
        recipientsFile: v.nameOf('recipients-file'),
        passphrase: v.nameOf('passphrase'),
        noEncryption:
          v.raw('encryption')?.origin === 'flag' ? '--no-encryption' : `${v.nameOf('encryption')}: false`,
      },
    },
    v.problems,
  );
}

export async function backupSettings(v: OptionValues, ctx: SettingsContext): Promise<BackupSettings> {
  const conn = connection(v, ctx, 'database-url');
  const prefix = v.get('prefix');
  const compression = v.get('compression');
  const minBytes = v.get('min-bytes');
  const encryption = encryptionOf(v, ctx);
  const notify = notifiers(v, ctx);
  const parts = backupParts(v, ctx);
  const stores = await destinations(v, ctx, 'destinations', false);
  runDestinations(stores);
  v.problems.throwIfAny();
  await prepareLocalDestinations(stores, v.nameOf('destinations'));
  return {
    config: {
      connection: conn!,
      destinations: stores,
      prefix: prefix!,
      compression: compression!,
      encryption: encryption!,
      anomaly: { minBytes: minBytes! },
      ...parts,
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
  const parts = restoreParts(v, ctx);
  // Only files and Redis (no target-url): no database connection is needed.
  const target = parts.partsOnly ? undefined : connection(v, ctx, 'target-url');
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
    ...parts,
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
  const encryption = encryptionOf(v, ctx);
  const stores = await destinations(v, ctx, 'destinations', false);
  await requireExistingDestinations(stores, v.nameOf('destinations'), v.problems);
  runDestinations(stores);
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
  await requireExistingDestinations(storages, v.nameOf('destinations'), v.problems);
  runDestinations(storages);
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

export interface CheckSettings {
  config: CheckConfig;
  /** The destinations checked (display form, credentials stripped). */
  displays: string[];
}

/** A storage call during a check may wait this long at most (less when LMS_BACKUP_STORAGE_TIMEOUT says so). */
export const CHECK_STORAGE_TIMEOUT_MS = 30_000;

/**
 * `check` reads what the backup and the drill would use: its own flags, inputs and check:
 * section first, then the file's backup: and drill: sections, the environment and the defaults.
 * Problems of what it checks (recipients, the connection's reachability) become failed checks,
 * not configuration errors; a value that cannot be parsed at all is one (exit 2).
 */
export async function checkSettings(v: OptionValues, ctx: SettingsContext): Promise<CheckSettings> {
  const b = v.derive('backup');
  const d = v.derive('drill');
  const conn = connection(b, ctx, 'database-url');
  const passphrase = secret(b, ctx, 'passphrase');
  const encryptionOn = b.get('encryption');
  const keys = decryption(d, ctx);
  const engine = d.get('engine');
  const image = d.get('image');
  const major = d.get('postgres-major');
  const recipientsFile = path(b, 'recipients-file');
  const notify = notifiersFromEnv(ctx.env);
  for (const n of notify) ctx.mask.add(n.url);

  // The destinations the backup writes and the drill reads, each once.
  const locations = v.given('destinations')
    ? (v.get('destinations') ?? [])
    : [...(b.get('destinations') ?? []), ...(d.given('from') ? (d.get('from') ?? []) : [])];
  const bound = v.problems.try(() => storageTimeoutsFromEnv(ctx.env));
  const timeouts = storageTimeouts(
    Math.min(bound?.totalMs ?? CHECK_STORAGE_TIMEOUT_MS, CHECK_STORAGE_TIMEOUT_MS),
  );
  const stores: Storage[] = [];
  for (const location of locations) {
    ctx.mask.addStorageLocation(location);
    const s = await v.problems.tryAsync(() =>
      openStorage(location, { env: ctx.env, logger: ctx.logger, timeouts }),
    );
    if (s && !stores.some((x) => x.kind === s.kind && x.display === s.display)) stores.push(s);
  }
  v.problems.throwIfAny();
  const secretsInEnv = STORAGE_SECRET_ENV.map((k) => ctx.env[k]).filter((x): x is string => Boolean(x));
  return {
    config: {
      connection: conn!,
      destinations: stores,
      encryption: {
        recipients: b.get('recipients') ?? [],
        recipientsFile,
        passphrase,
        noEncryption: encryptionOn === false,
        names: {
          recipients: b.nameOf('recipients'),
          recipientsFile: b.nameOf('recipients-file'),
          passphrase: b.nameOf('passphrase'),
          noEncryption:
            b.raw('encryption')?.origin === 'flag' ? '--no-encryption' : `${b.nameOf('encryption')}: false`,
        },
      },
      keys,
      engine: engine!,
      ...(image ? { image } : {}),
      ...(major ? { postgresMajor: major } : {}),
      notifiers: notify,
      secrets: secretsInEnv,
    },
    displays: stores.map((s) => s.display),
  };
}

/** Storage credentials in the environment: never in a check's output. */
const STORAGE_SECRET_ENV = [
  'AZURE_STORAGE_CONNECTION_STRING',
  'AZURE_STORAGE_SAS_TOKEN',
  'AZURE_STORAGE_KEY',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
];
