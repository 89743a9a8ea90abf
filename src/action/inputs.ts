/**
 * Action inputs → the commands' typed configurations. Every input a step reads is declared in
 * STEP_INPUTS with the default its action.yml states (a test keeps the two equal), so a step
 * behaves the same whether the runner filled in the default or the input is simply absent.
 * Every problem is collected and reported together, once.
 */
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PREFIX_RE } from '../catalog/names.js';
import { DEFAULT_RETENTION_POLICY, type RetentionPolicy, retentionPolicy } from '../catalog/retention.js';
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
  Problems,
  parseDuration,
  parsePositiveInt,
  parseTime,
  prepareLocalDestinations,
  recordableDestinations,
  requireExistingDestinations,
  resolveDecryption,
  resolveEncryption,
} from '../config.js';
import { parseEngine } from '../engines/index.js';
import type { Logger } from '../log.js';
import { type PgConnection, resolveConnection } from '../postgres/connection.js';
import { parseCompression } from '../postgres/dump.js';
import { loadHealthChecks } from '../postgres/validate.js';
import { FAIL_ON_CONDITIONS, type FailOnCondition } from '../report/metrics.js';
import { isSeverity, type NotifierConfig } from '../report/notify.js';
import type { Storage } from '../storage/types.js';
import type { ActionIO } from './io.js';
import type { Secrets } from './secrets.js';

/** Every input of every step, with the default its action.yml declares ('' = none). */
export const STEP_INPUTS = {
  backup: {
    'database-url': '',
    destinations: 'backups',
    prefix: 'lms',
    compression: 'auto',
    recipients: '',
    'recipients-file': '',
    passphrase: '',
    encryption: 'true',
    'min-bytes': '1',
    'notify-min-severity': 'warning',
  },
  drill: {
    from: 'backups',
    backup: 'latest',
    before: '',
    identity: '',
    'identity-file': '',
    passphrase: '',
    engine: 'auto',
    'postgres-major': '',
    image: '',
    'min-tables': '8',
    checks: '',
    jobs: '',
    rto: '4h',
    rpo: '24h',
    'report-dir': '',
    'upload-report': 'true',
    'notify-min-severity': 'warning',
  },
  verify: {
    from: 'backups',
    backup: 'latest',
    before: '',
    identity: '',
    'identity-file': '',
    passphrase: '',
  },
  restore: {
    from: 'backups',
    backup: 'latest',
    before: '',
    'verified-only': 'false',
    'target-url': '',
    identity: '',
    'identity-file': '',
    passphrase: '',
    confirm: '',
    'safety-backup': 'true',
    'safety-to': '',
    force: 'false',
    'dry-run': 'false',
    tables: '',
    schemas: '',
    'create-roles': 'false',
    'no-owner': 'false',
    'no-privileges': 'false',
    jobs: '',
    'min-tables': '8',
  },
  prune: {
    destinations: 'backups',
    'keep-days': String(DEFAULT_RETENTION_POLICY.keepDays),
    'keep-daily': String(DEFAULT_RETENTION_POLICY.keepDaily),
    'keep-weekly': String(DEFAULT_RETENTION_POLICY.keepWeekly),
    'keep-monthly': String(DEFAULT_RETENTION_POLICY.keepMonthly),
    'keep-min': String(DEFAULT_RETENTION_POLICY.keepMin),
    'dry-run': 'false',
  },
  report: {
    destinations: 'backups',
    'window-days': '30',
    rpo: '24h',
    rto: '4h',
    'keep-days': String(DEFAULT_RETENTION_POLICY.keepDays),
    'fail-on': '',
    'output-dir': 'lms-backup-report',
    formats: 'markdown,json,html',
    'upload-report': 'true',
  },
} as const satisfies Record<string, Record<string, string>>;

export type InputStep = keyof typeof STEP_INPUTS;

/** Every output of every step (the action.yml files declare exactly these). */
export const STEP_OUTPUTS = {
  backup: ['backup-id', 'object-key', 'sha256', 'bytes', 'duration-seconds'],
  drill: ['passed', 'verdict', 'tables', 'rows', 'recovery-seconds', 'report-path'],
  verify: ['ok', 'backup-id'],
  restore: ['ok', 'backup-id', 'restored', 'mode', 'side-database', 'safety-backup-id'],
  prune: ['removed', 'kept', 'deleted-objects'],
  report: ['status', 'failed-conditions', 'report-dir', 'html-path'],
} as const satisfies Record<InputStep, readonly string[]>;

/** Reads one step's inputs: defaults applied, booleans strict, secrets masked as they are read. */
export class Inputs {
  constructor(
    private readonly io: ActionIO,
    private readonly step: InputStep,
    private readonly problems: Problems,
    private readonly secrets: Secrets,
  ) {}

  private declared(name: string): string {
    const defaults = STEP_INPUTS[this.step] as Record<string, string>;
    const d = defaults[name];
    if (d === undefined) throw new Error(`bug: input "${name}" is not declared for the ${this.step} step`);
    return d;
  }

  /** The input, or its declared default when absent or blank. */
  str(name: string): string {
    const fallback = this.declared(name);
    return this.io.getInput(name) || fallback;
  }

  /** The input when set (or defaulted) to something non-empty, else undefined. */
  optional(name: string): string | undefined {
    return this.str(name) || undefined;
  }

  /** Masked before anything else can see it. */
  secret(name: string): string | undefined {
    const raw = this.io.getInput(name);
    this.secrets.add(raw);
    return raw || this.declared(name) || undefined;
  }

  /** A list: one item per line or comma. */
  list(name: string): string[] {
    return splitLines(this.str(name));
  }

  bool(name: string): boolean | undefined {
    const fallback = this.declared(name);
    if (!this.io.getInput(name)) return fallback === 'true';
    try {
      return this.io.getBooleanInput(name);
    } catch {
      this.problems.add(
        `${name} must be true or false (got "${this.io.getInput(name)}")`,
        'use true, True, TRUE, false, False or FALSE',
      );
      return undefined;
    }
  }
}

/** Items separated by newlines or commas; blank items and surrounding spaces dropped. */
export function splitLines(value: string): string[] {
  return value
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export interface ParseContext {
  io: ActionIO;
  secrets: Secrets;
  logger: Logger;
  env: NodeJS.ProcessEnv;
}

/**
 * The database a step connects to: the input, else the given environment variables, else PG*.
 * Required in effect: silently using localhost:5432 as the runner's user helps nobody.
 */
function connectionInput(
  ctx: ParseContext,
  inputs: Inputs,
  name: 'database-url' | 'target-url',
  envNames: string[],
  problems: Problems,
): PgConnection | undefined {
  const { env } = ctx;
  const given = inputs.secret(name);
  ctx.secrets.addConnectionUrl(given);
  const fromEnv = envNames.map((n) => env[n]).find(Boolean);
  const url = given ?? fromEnv;
  if (!url && !env.PGHOST && !env.PGDATABASE) {
    problems.add(
      `${name} is required (no ${name} input, and no ${[...envNames, 'PGHOST', 'PGDATABASE'].join(', ')} in the environment)`,
      `set ${name}: postgresql://user@host:5432/db (from a secret), or the PG* variables in the step env; put the password in PGPASSWORD`,
    );
  }
  return problems.try(() => resolveConnection(url, env, name));
}

/** identity / identity-file / passphrase, with the CLI's environment fallbacks; all masked. */
function decryptionInput(ctx: ParseContext, inputs: Inputs, problems: Problems): DecryptionKeys {
  const { env } = ctx;
  const identity = inputs.secret('identity') ?? env.LMS_BACKUP_IDENTITY;
  ctx.secrets.add(identity);
  const passphrase = inputs.secret('passphrase') ?? env.LMS_BACKUP_PASSPHRASE;
  ctx.secrets.add(passphrase);
  const identityFile = inputs.optional('identity-file');
  const keys = resolveDecryption(
    { identityFile: identityFile ? resolve(identityFile) : undefined, identity, passphrase },
    problems,
    { identityFile: 'identity-file', identity: 'identity' },
  );
  for (const id of keys.identities) ctx.secrets.add(id);
  return keys;
}

/** from: exactly one destination, opened. */
async function sourceInput(
  ctx: ParseContext,
  inputs: Inputs,
  problems: Problems,
  name: 'from' | 'safety-to' = 'from',
): Promise<Storage | undefined> {
  const from = inputs.list(name);
  if (from.length > 1) {
    problems.add(`${name} takes one destination (got ${from.length})`, 'use one step per destination');
  }
  for (const d of from) ctx.secrets.addStorageLocation(d);
  const [storage] = await openDestinations(from.slice(0, 1), problems, {
    env: ctx.env,
    logger: ctx.logger,
    inputName: name,
  });
  if (name === 'from' && from.length === 1) {
    requireExistingDestinations(storage ? [storage] : [], name, problems);
    runDestinations(recordableDestinations(storage ? [storage] : []));
  }
  return storage;
}

/** Webhooks and heartbeat from the environment (secrets: masked), as the CLI reads them. */
function notifiersInput(ctx: ParseContext, inputs: Inputs, problems: Problems): NotifierConfig[] {
  const sev = inputs.str('notify-min-severity');
  if (!isSeverity(sev)) {
    problems.add(`notify-min-severity must be critical, warning or info (got "${sev}")`);
    return [];
  }
  const notifiers = notifiersFromEnv(ctx.env, sev);
  for (const n of notifiers) ctx.secrets.add(n.url);
  return notifiers;
}

function selectionInput(inputs: Inputs, problems: Problems) {
  const raw = inputs.optional('before');
  const before = raw === undefined ? undefined : parseTime(raw, 'before', problems);
  return { name: inputs.str('backup'), ...(before ? { before } : {}) };
}

// ---------------------------------------------------------------------------------------------
// backup

export interface BackupInputs {
  config: BackupConfig;
  notifiers: NotifierConfig[];
  /** Where it goes, for the summary (credentials stripped). */
  displays: string[];
}

export async function parseBackupInputs(ctx: ParseContext): Promise<BackupInputs> {
  const { env, logger } = ctx;
  const problems = new Problems();
  const inputs = new Inputs(ctx.io, 'backup', problems, ctx.secrets);

  const connection = connectionInput(
    ctx,
    inputs,
    'database-url',
    ['LMS_BACKUP_DATABASE_URL', 'DATABASE_URL'],
    problems,
  );
  const prefix = inputs.str('prefix');
  if (!PREFIX_RE.test(prefix)) {
    problems.add(`prefix "${prefix}" must be letters, digits and dashes`, 'e.g. lms or lms-prod');
  }
  const compression = problems.try(() => parseCompression(inputs.str('compression'), 'compression'));
  const minBytes = parsePositiveInt(inputs.str('min-bytes'), 'min-bytes', problems, 1);

  const passphrase = inputs.secret('passphrase') ?? env.LMS_BACKUP_PASSPHRASE;
  ctx.secrets.add(passphrase);
  const encryptionOn = inputs.bool('encryption');
  const recipientsFile = inputs.optional('recipients-file');
  const encryption =
    encryptionOn === undefined
      ? undefined
      : resolveEncryption(
          {
            recipients: [
              inputs.str('recipients'),
              ...(env.LMS_BACKUP_RECIPIENTS ? [env.LMS_BACKUP_RECIPIENTS] : []),
            ],
            recipientsFile: recipientsFile ? resolve(recipientsFile) : undefined,
            passphrase,
            noEncryption: !encryptionOn,
            names: {
              recipients: 'recipients',
              recipientsFile: 'recipients-file',
              passphrase: 'passphrase',
              noEncryption: 'encryption: false',
            },
          },
          problems,
        );
  const notifiers = notifiersInput(ctx, inputs, problems);

  const destinationList = inputs.list('destinations');
  for (const d of destinationList) ctx.secrets.addStorageLocation(d);
  const destinations = await openDestinations(destinationList, problems, {
    env,
    logger,
    inputName: 'destinations',
  });
  runDestinations(recordableDestinations(destinations));
  problems.throwIfAny();
  prepareLocalDestinations(destinations, 'destinations');
  return {
    config: {
      connection: connection!,
      destinations,
      prefix,
      compression: compression!,
      encryption: encryption!,
      anomaly: { minBytes: minBytes! },
    },
    notifiers,
    displays: destinations.map((d) => d.display),
  };
}

// ---------------------------------------------------------------------------------------------
// drill

export interface DrillInputs {
  config: DrillConfig;
  notifiers: NotifierConfig[];
  uploadReport: boolean;
}

export async function parseDrillInputs(
  ctx: ParseContext,
  options: { defaultReportDir: string },
): Promise<DrillInputs> {
  const problems = new Problems();
  const inputs = new Inputs(ctx.io, 'drill', problems, ctx.secrets);

  const keys = decryptionInput(ctx, inputs, problems);
  const engine = problems.try(() => parseEngine(inputs.str('engine'), 'engine'));
  const minTables = parsePositiveInt(inputs.str('min-tables'), 'min-tables', problems, 0);
  const jobsRaw = inputs.optional('jobs');
  const jobs = jobsRaw === undefined ? undefined : parsePositiveInt(jobsRaw, 'jobs', problems);
  const majorRaw = inputs.optional('postgres-major');
  const major =
    majorRaw === undefined ? undefined : parsePositiveInt(majorRaw, 'postgres-major', problems, 9);
  const rto = parseDuration(inputs.str('rto'), 'rto', problems);
  const rpo = parseDuration(inputs.str('rpo'), 'rpo', problems);
  const selection = selectionInput(inputs, problems);
  const checksPath = inputs.optional('checks');
  const checks = checksPath
    ? (problems.try(() => loadHealthChecks(resolve(checksPath), 'checks')) ?? [])
    : [];
  const image = inputs.optional('image');
  const uploadReport = inputs.bool('upload-report');
  const reportDir = resolve(inputs.optional('report-dir') ?? options.defaultReportDir);
  const notifiers = notifiersInput(ctx, inputs, problems);
  const storage = await sourceInput(ctx, inputs, problems);
  problems.throwIfAny();
  return {
    config: {
      storage: storage!,
      selection,
      keys,
      engine: engine!,
      ...(major ? { postgresMajor: major } : {}),
      ...(image ? { image } : {}),
      minTables: minTables!,
      checks,
      ...(jobs ? { jobs } : {}),
      rtoSeconds: rto!,
      rpoSeconds: rpo!,
      localReportDir: reportDir,
    },
    notifiers,
    uploadReport: uploadReport!,
  };
}

/** Where drill reports go when report-dir is not set: the runner's temp directory. */
export function defaultDrillReportDir(env: NodeJS.ProcessEnv): string {
  return join(env.RUNNER_TEMP || tmpdir(), 'lms-backup-drill-reports');
}

// ---------------------------------------------------------------------------------------------
// verify

export async function parseVerifyInputs(ctx: ParseContext): Promise<VerifyConfig> {
  const problems = new Problems();
  const inputs = new Inputs(ctx.io, 'verify', problems, ctx.secrets);
  const keys = decryptionInput(ctx, inputs, problems);
  const selection = selectionInput(inputs, problems);
  const storage = await sourceInput(ctx, inputs, problems);
  problems.throwIfAny();
  return { storage: storage!, selection, keys };
}

// ---------------------------------------------------------------------------------------------
// restore

export async function parseRestoreInputs(ctx: ParseContext): Promise<RestoreConfig> {
  const problems = new Problems();
  const inputs = new Inputs(ctx.io, 'restore', problems, ctx.secrets);
  const keys = decryptionInput(ctx, inputs, problems);
  const target = connectionInput(ctx, inputs, 'target-url', ['LMS_BACKUP_TARGET_URL'], problems);
  const verifiedOnly = inputs.bool('verified-only');
  const selection = { ...selectionInput(inputs, problems), ...(verifiedOnly ? { verifiedOnly: true } : {}) };
  const jobsRaw = inputs.optional('jobs');
  const jobs = jobsRaw === undefined ? undefined : parsePositiveInt(jobsRaw, 'jobs', problems);
  const minTables = parsePositiveInt(inputs.str('min-tables'), 'min-tables', problems, 0);
  const safetyBackup = inputs.bool('safety-backup');
  const force = inputs.bool('force');
  const dryRun = inputs.bool('dry-run');
  const createRoles = inputs.bool('create-roles');
  const noOwner = inputs.bool('no-owner');
  const noPrivileges = inputs.bool('no-privileges');
  const confirm = inputs.optional('confirm');
  const storage = await sourceInput(ctx, inputs, problems);
  const safety = inputs.optional('safety-to')
    ? await sourceInput(ctx, inputs, problems, 'safety-to')
    : undefined;
  problems.throwIfAny();
  return {
    storage: storage!,
    selection,
    keys,
    target: target!,
    ...(confirm !== undefined ? { confirm } : {}),
    safetyBackup: safetyBackup!,
    ...(safety ? { safetyStorage: safety } : {}),
    force: force!,
    dryRun: dryRun!,
    tables: inputs.list('tables'),
    schemas: inputs.list('schemas'),
    ...(jobs ? { jobs } : {}),
    minTables: minTables!,
    createRoles: createRoles!,
    noOwner: noOwner!,
    noPrivileges: noPrivileges!,
  };
}

// ---------------------------------------------------------------------------------------------
// prune

export interface PruneInputs {
  storages: Storage[];
  policy: RetentionPolicy;
  dryRun: boolean;
}

export async function parsePruneInputs(ctx: ParseContext): Promise<PruneInputs> {
  const problems = new Problems();
  const inputs = new Inputs(ctx.io, 'prune', problems, ctx.secrets);
  const num = (name: 'keep-days' | 'keep-daily' | 'keep-weekly' | 'keep-monthly' | 'keep-min', min: number) =>
    parsePositiveInt(inputs.str(name), name, problems, min);
  const given: Partial<RetentionPolicy> = {};
  const fields = [
    ['keepDays', 'keep-days', 1],
    ['keepDaily', 'keep-daily', 0],
    ['keepWeekly', 'keep-weekly', 0],
    ['keepMonthly', 'keep-monthly', 0],
    ['keepMin', 'keep-min', 0],
  ] as const;
  let allParsed = true;
  for (const [field, name, min] of fields) {
    const v = num(name, min);
    if (v === undefined) allParsed = false;
    else given[field] = v;
  }
  const policy = allParsed ? problems.try(() => retentionPolicy(given)) : undefined;
  const dryRun = inputs.bool('dry-run');
  const list = inputs.list('destinations');
  for (const d of list) ctx.secrets.addStorageLocation(d);
  const storages = await openDestinations(list, problems, {
    env: ctx.env,
    logger: ctx.logger,
    inputName: 'destinations',
  });
  requireExistingDestinations(storages, 'destinations', problems);
  runDestinations(recordableDestinations(storages));
  problems.throwIfAny();
  return { storages, policy: policy!, dryRun: dryRun! };
}

// ---------------------------------------------------------------------------------------------
// report

export interface ReportInputs {
  storages: Storage[];
  windowDays: number;
  rpoSeconds: number;
  rtoSeconds: number;
  keepDays: number;
  failOn: FailOnCondition[];
  outDir: string;
  formats: ReportFormat[];
  uploadReport: boolean;
}

const REPORT_FORMAT_NAMES: readonly string[] = ['markdown', 'json', 'html'];

export async function parseReportInputs(ctx: ParseContext): Promise<ReportInputs> {
  const problems = new Problems();
  const inputs = new Inputs(ctx.io, 'report', problems, ctx.secrets);
  const windowDays = parsePositiveInt(inputs.str('window-days'), 'window-days', problems, 1);
  const rpo = parseDuration(inputs.str('rpo'), 'rpo', problems);
  const rto = parseDuration(inputs.str('rto'), 'rto', problems);
  const keepDays = parsePositiveInt(inputs.str('keep-days'), 'keep-days', problems, 1);
  const failOn: FailOnCondition[] = [];
  for (const c of inputs.list('fail-on').map((s) => s.toLowerCase())) {
    if ((FAIL_ON_CONDITIONS as readonly string[]).includes(c)) failOn.push(c as FailOnCondition);
    else
      problems.add(
        `fail-on "${c}" is not a condition`,
        `use a comma-separated list of ${FAIL_ON_CONDITIONS.join(', ')} (or leave it empty)`,
      );
  }
  const formats: ReportFormat[] = [];
  for (const f of inputs.list('formats').map((s) => s.toLowerCase())) {
    if (REPORT_FORMAT_NAMES.includes(f)) formats.push(f as ReportFormat);
    else problems.add(`formats: "${f}" is not a report format`, 'use markdown, json and/or html');
  }
  const uploadReport = inputs.bool('upload-report');
  const list = inputs.list('destinations');
  for (const d of list) ctx.secrets.addStorageLocation(d);
  const storages = await openDestinations(list, problems, {
    env: ctx.env,
    logger: ctx.logger,
    inputName: 'destinations',
  });
  problems.throwIfAny();
  return {
    storages,
    windowDays: windowDays!,
    rpoSeconds: rpo!,
    rtoSeconds: rto!,
    keepDays: keepDays!,
    failOn,
    outDir: resolve(inputs.str('output-dir')),
    formats,
    uploadReport: uploadReport!,
  };
}
