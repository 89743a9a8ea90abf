/**
 * The one spec of every option: its name (the action input, the config-file key and the CLI flag
 * `--<name>`), its environment fallbacks, default, parser, whether it is a secret, its help text
 * and the commands that take it. The CLI's flags, each action step's input reading, the action.yml
 * inputs, the README's reference and the config file's JSON Schema are all derived from it.
 */
import { PREFIX_RE } from '../catalog/names.js';
import { DEFAULT_RETENTION_POLICY } from '../catalog/retention.js';
import { REPORT_FORMATS, type ReportFormat } from '../commands/report.js';
import type { Problems } from '../config.js';
import { type EngineChoice, parseEngine } from '../engines/index.js';
import { type Compression, parseCompression } from '../postgres/dump.js';
import { FAIL_ON_CONDITIONS, type FailOnCondition } from '../report/metrics.js';
import { isSeverity, type Severity } from '../report/notify.js';
import { parseBool, parseDurationValue, parseEnumList, parseIntValue, parseTimeValue } from './parse.js';

export const COMMANDS = [
  'backup',
  'drill',
  'verify',
  'restore',
  'prune',
  'report',
  'check',
  'forget',
  'list',
] as const;
export type CommandName = (typeof COMMANDS)[number];
/** The commands that are also action steps (each with its action.yml): all but the CLI's own. */
export const ACTION_STEPS = COMMANDS.filter((c) => c !== 'list');
export type ActionStep = Exclude<CommandName, 'list'>;

/** How a raw value is read: one string, a list (repeatable flag, lines/commas, a YAML list), a boolean. */
export type OptionKind = 'string' | 'list' | 'bool';

export interface OptionSpec<T = unknown> {
  kind: OptionKind;
  /** The default as action.yml states it ('' = none). */
  default: string;
  /** A different default on the CLI (e.g. the report writes no files unless asked). */
  cliDefault?: string;
  /** What action.yml says: one text, or one per command. */
  description: string | Partial<Record<CommandName, string>>;
  /** The CLI's one-line help (the default is appended from the spec). */
  help: string;
  /** A different CLI help for some commands. */
  cliHelp?: Partial<Record<CommandName, string>>;
  /**
   * Read from another section of the config file when this command's section does not set it,
   * e.g. where to drill from defaults to where the backup section stores (its first destination).
   */
  fileFallback?: { command: CommandName; option: OptionNameOf; first?: boolean };
  /** The value's name in the CLI's help, e.g. '<url>'. */
  arg?: string;
  /** Older CLI spellings, still accepted, hidden from --help. */
  aliases?: readonly string[];
  /** Environment variables read when neither flag nor input is given, in order. */
  env?: readonly string[];
  /**
   * A secret: never in the config file (refused, with where to put it) and never a CLI flag
   * (argv is visible to every user of the machine); an action input, masked as it is read.
   */
  secret?: { instead: string };
  /** Not a CLI flag (action-only, e.g. artifact upload). */
  actionOnly?: boolean;
  /** Parses a present raw value; reports a problem naming `name` and returns undefined when bad. */
  parse: (raw: RawOf<OptionKind>, name: string, problems: Problems) => T | undefined;
}

export type RawOf<K extends OptionKind> = K extends 'list' ? string[] : string;
/** An option's name, as a plain string inside the spec (OptionName once the spec is declared). */
type OptionNameOf = string;

const str = (raw: RawOf<OptionKind>) => raw as string;
const list = (raw: RawOf<OptionKind>) => raw as string[];
const bool = (raw: RawOf<OptionKind>, name: string, problems: Problems) =>
  parseBool(raw as string, name, problems);
const int =
  (min: number) =>
  (raw: RawOf<OptionKind>, name: string, problems: Problems): number | undefined =>
    parseIntValue(raw as string, name, problems, min);
/** An RPO or RTO: a duration above zero (a zero objective can never be met). */
const objective = (raw: RawOf<OptionKind>, name: string, problems: Problems): number | undefined => {
  const seconds = parseDurationValue(raw as string, name, problems);
  if (seconds === 0) {
    problems.add(`${name} ${raw} is zero: no recovery can meet it`, 'give a duration above zero, e.g. 4h');
    return undefined;
  }
  return seconds;
};

function opt<T>(spec: OptionSpec<T>): OptionSpec<T> {
  return spec;
}

const NOTIFY_DESCRIPTION =
  'The lowest severity sent to the webhooks named by LMS_BACKUP_SLACK_WEBHOOK_URL, LMS_BACKUP_TEAMS_WEBHOOK_URL and LMS_BACKUP_WEBHOOK_URL in the step env (secrets; the LMS_BACKUP_HEARTBEAT_URL heartbeat is pinged on every run): critical, warning or info. Default: warning.';

export const OPTIONS = {
  config: opt({
    kind: 'string',
    default: '',
    description:
      'A configuration file (lms-backup.yml) whose section for this step supplies any input not given here. Default: lms-backup.yml when present.',
    help: 'the configuration file (default: ./lms-backup.yml when present)',
    arg: '<file>',
    parse: str,
  }),
  database: opt({
    kind: 'string',
    default: '',
    description:
      "Which database of the configuration file's databases: section this step works on. Default: none (the file's top-level sections).",
    help: "which database of the configuration file's databases: section (or --all)",
    arg: '<name>',
    parse: str,
  }),
  'database-url': opt({
    kind: 'string',
    default: '',
    description:
      'The database to back up, as postgresql://user@host:5432/dbname (pass it from a secret; a password in it is masked). Default: none, then the DATABASE_URL or LMS_BACKUP_DATABASE_URL environment variable, then the standard PG* variables (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD). Required in effect: the step fails when none of these is set.',
    help: 'postgresql://user@host:5432/db, no password (also $LMS_BACKUP_DATABASE_URL, $DATABASE_URL, the PG* variables)',
    arg: '<url>',
    env: ['LMS_BACKUP_DATABASE_URL', 'DATABASE_URL'],
    parse: str,
  }),
  'compose-file': opt({
    kind: 'list',
    default: '',
    description: {
      backup:
        'Compose mode: the compose file of the project whose service runs the database, one per line or comma-separated for override files (as docker compose -f). pg_dump runs inside the service (docker compose exec -T, or docker-compose with compose v1) and the snapshot session goes through it too, so the database port need not be published. Default: none (compose mode is on when compose-file, compose-service or compose-project is given; compose itself then reads COMPOSE_FILE or ./compose.yaml).',
      restore:
        'Compose mode: the compose file of the project whose service runs the target database, one per line or comma-separated for override files (as docker compose -f). pg_restore runs inside the service (docker compose exec -T, or docker-compose with compose v1); the database port need not be published. Default: none (compose mode is on when compose-file, compose-service or compose-project is given).',
    },
    help: 'compose mode: the compose file of the database service (repeatable, for override files)',
    arg: '<file>',
    parse: list,
  }),
  'compose-service': opt({
    kind: 'string',
    default: '',
    description:
      'Compose mode: the service running PostgreSQL. Its POSTGRES_USER, POSTGRES_DB and POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) are the credentials unless a URL or PG* variables give them. Default: the one service whose image is a PostgreSQL image.',
    help: 'compose mode: the service running PostgreSQL (default: the one with a postgres image)',
    arg: '<service>',
    parse: str,
  }),
  'compose-project': opt({
    kind: 'string',
    default: '',
    description:
      'Compose mode: the compose project name (as docker compose -p). Default: none (compose uses COMPOSE_PROJECT_NAME or the directory name).',
    help: 'compose mode: the project name (as docker compose -p)',
    arg: '<name>',
    parse: str,
  }),
  'compose-profile': opt({
    kind: 'list',
    default: '',
    description:
      'Compose mode: compose profiles to enable, one per line or comma-separated (as docker compose --profile), for a database service that belongs to a profile. Default: none (compose uses COMPOSE_PROFILES).',
    help: 'compose mode: a profile to enable (repeatable, as docker compose --profile)',
    arg: '<profile>',
    parse: list,
  }),
  destinations: opt({
    kind: 'list',
    default: 'backups',
    description: {
      backup:
        'Where to store the backup, one per line or comma-separated: a directory path, file://, azure://<account>/<container>/<prefix>, s3://<bucket>/<prefix> or gs://<bucket>/<prefix>. Cloud credentials come from the step environment or an OIDC login. Default: backups.',
      prune:
        'The destinations to prune, one per line or comma-separated (paths or storage URLs). Default: backups.',
      report:
        'Where the backups and records are, one per line or comma-separated (paths or storage URLs). Default: backups.',
      check:
        "The destinations to check (write, read back, list and delete a probe object), one per line or comma-separated. Default: backups; when not given, the configuration file's backup destinations and drill from.",
      forget:
        'The destinations whose erasure ledger (erasures/) records the request: every destination that holds backups, one per line or comma-separated (paths or storage URLs). Default: backups.',
    },
    help: 'a path, file://, azure://, s3://, gs:// (repeatable, or comma-separated)',
    cliHelp: {
      backup: 'where to store: a path, file://, azure://, s3://, gs:// (repeatable, or comma-separated)',
      prune: 'where the backups are: paths or storage URLs (repeatable, or comma-separated)',
      report: 'where the records are: paths or storage URLs (repeatable, or comma-separated; merged)',
    },
    arg: '<destination>',
    aliases: ['--to', '--from'],
    fileFallback: { command: 'backup', option: 'destinations' },
    parse: list,
  }),
  prefix: opt({
    kind: 'string',
    default: 'lms',
    description: 'Backup name prefix: backups are named <prefix>_YYYYMMDD_HHmmss (UTC). Default: lms.',
    help: 'backup name prefix: letters, digits and dashes',
    arg: '<prefix>',
    parse: (raw, name, problems) => {
      const v = raw as string;
      if (PREFIX_RE.test(v)) return v;
      problems.add(`${name} "${v}" must be letters, digits and dashes`, 'e.g. lms or lms-prod');
      return undefined;
    },
  }),
  compression: opt<Compression | 'auto'>({
    kind: 'string',
    default: 'auto',
    description:
      'Compression: auto, none, gzip[:1-9], lz4[:N] or zstd[:N] (done by pg_dump; lz4 and zstd need pg_dump 16+). Default: auto (zstd:1 outside a pg_dump -Z0 archive, on its own core, when the zstd binary or Node 22.15+ is at hand; else zstd:1 with pg_dump 16+, else gzip:1).',
    help: 'auto (zstd:1 outside the archive when zstd is at hand), none, gzip[:1-9], lz4[:N], zstd[:N]',
    arg: '<c>',
    parse: (raw, name, problems) => problems.try(() => parseCompression(raw as string, name)),
  }),
  recipients: opt({
    kind: 'list',
    default: '',
    description:
      'age public keys (age1…) to encrypt to, one per line or comma-separated; only the matching identities can read the backup. Also read from LMS_BACKUP_RECIPIENTS. Default: none.',
    help: 'age public keys to encrypt to (repeatable, or comma-separated; also $LMS_BACKUP_RECIPIENTS)',
    arg: '<age1…>',
    aliases: ['--recipient'],
    env: ['LMS_BACKUP_RECIPIENTS'],
    parse: list,
  }),
  'recipients-file': opt({
    kind: 'string',
    default: '',
    description: 'A file with one age1… recipient per line (# comments allowed). Default: none.',
    help: 'a file with one age1… recipient per line',
    arg: '<path>',
    parse: str,
  }),
  passphrase: opt({
    kind: 'string',
    default: '',
    description: {
      backup:
        'Encrypt with an age passphrase (scrypt) instead of recipients; pass it from a secret. Also read from LMS_BACKUP_PASSPHRASE. Default: none.',
      drill:
        'The age passphrase, for backups encrypted with one; pass it from a secret. Also read from LMS_BACKUP_PASSPHRASE. Default: none.',
      verify:
        'The age passphrase, for passphrase-encrypted backups; pass it from a secret. Also read from LMS_BACKUP_PASSPHRASE. Default: none.',
      restore:
        'The age passphrase, for passphrase-encrypted backups; pass it from a secret. Also read from LMS_BACKUP_PASSPHRASE. Default: none.',
      check:
        'The age passphrase the backups are encrypted with (instead of recipients), checked against the newest backup; pass it from a secret. Also read from LMS_BACKUP_PASSPHRASE. Default: none.',
      forget:
        'Encrypt the ledger entry with an age passphrase (scrypt) instead of recipients, as the backups are; pass it from a secret. Also read from LMS_BACKUP_PASSPHRASE. Default: none.',
    },
    help: 'age passphrase',
    env: ['LMS_BACKUP_PASSPHRASE'],
    secret: {
      instead:
        'the LMS_BACKUP_PASSPHRASE environment variable (in the action: the passphrase input, from a secret)',
    },
    parse: str,
  }),
  encryption: opt({
    kind: 'bool',
    default: 'true',
    description:
      'Encrypt the dump with age. Set to false to store plaintext dumps (an explicit opt-out); with true and no recipients or passphrase the step fails. Default: true.',
    help: 'store the dump unencrypted (explicit opt-out)',
    parse: bool,
  }),
  files: opt({
    kind: 'list',
    default: '',
    description:
      "Files and directories to archive into the same backup (.env files, nginx and compose configuration, uploaded course files), one per line or comma-separated: a pax tar with every file's path, size, mode and SHA-256 in the manifest, gzip-compressed, encrypted and checksummed as its own object. Sockets, FIFOs and devices are skipped with a note. Default: none.",
    help: 'a file or directory to archive into the backup (repeatable)',
    arg: '<path>',
    parse: list,
  }),
  'files-exclude': opt({
    kind: 'list',
    default: '',
    description:
      'Globs left out of files, one per line or comma-separated: a glob without "/" matches a base name (*.log, node_modules), one with "/" the whole path without its leading "/" (srv/app/cache/**). Default: none.',
    help: 'leave out what matches this glob (repeatable; *.log, srv/app/cache/**)',
    arg: '<glob>',
    parse: list,
  }),
  'redis-url': opt({
    kind: 'string',
    default: '',
    description:
      'A Redis to snapshot into the same backup (redis-cli --rdb over the replication protocol): redis://[user@]host:6379 or unix:///path/redis.sock. The password goes in LMS_BACKUP_REDIS_PASSWORD (or REDISCLI_AUTH) in the step env, never in the URL. Default: none, then LMS_BACKUP_REDIS_URL.',
    help: 'a Redis to snapshot into the backup (password: $LMS_BACKUP_REDIS_PASSWORD)',
    arg: '<url>',
    env: ['LMS_BACKUP_REDIS_URL'],
    parse: str,
  }),
  'min-bytes': opt({
    kind: 'string',
    default: '1',
    description:
      'Fail, and store nothing as complete, when the stored backup is smaller than this many bytes. Default: 1 (only an empty dump fails).',
    help: 'fail when the stored backup is smaller than this',
    arg: '<n>',
    parse: int(1),
  }),
  'notify-min-severity': opt<Severity>({
    kind: 'string',
    default: 'warning',
    description: NOTIFY_DESCRIPTION,
    help: 'lowest severity sent to webhooks: critical, warning, info',
    arg: '<s>',
    parse: (raw, name, problems) => {
      const v = (raw as string).toLowerCase();
      if (isSeverity(v)) return v;
      problems.add(`${name} must be critical, warning or info (got "${raw}")`);
      return undefined;
    },
  }),
  from: opt({
    kind: 'list',
    default: 'backups',
    description:
      'Where the backups are: a directory path or a storage URL (azure://, s3://, gs://). Default: backups.',
    help: 'where the backups are: a path or a storage URL',
    arg: '<destination>',
    fileFallback: { command: 'backup', option: 'destinations', first: true },
    parse: list,
  }),
  backup: opt({
    kind: 'string',
    default: 'latest',
    description: {
      drill: 'Which backup to drill: a backup id (lms_20240115_020000) or latest. Default: latest.',
      verify: 'Which backup to verify: a backup id (lms_20240115_020000) or latest. Default: latest.',
      restore: 'Which backup to restore: a backup id (lms_20240115_020000) or latest. Default: latest.',
    },
    help: 'which backup: an id, or "latest"',
    arg: '<id>',
    parse: str,
  }),
  before: opt<Date>({
    kind: 'string',
    default: '',
    description: {
      drill:
        'Drill the newest complete backup taken at or before this time (ISO 8601, e.g. 2024-01-15T03:00Z). Default: none.',
      verify:
        'Verify the newest complete backup taken at or before this time (ISO 8601, e.g. 2024-01-15T03:00Z). Default: none.',
      restore:
        'Restore the newest complete backup taken at or before this time (ISO 8601, e.g. 2024-01-15T03:00Z). Default: none.',
    },
    help: 'the newest complete backup taken at or before this time (e.g. 2024-01-15T03:00Z)',
    arg: '<time>',
    parse: (raw, name, problems) => {
      const t = parseTimeValue(raw as string, name, problems);
      if (t && t.getTime() > Date.now() + 60_000) {
        problems.add(
          `${name} ${raw} is in the future (now ${new Date().toISOString()})`,
          `give a past time, or leave ${name} out for the newest backup`,
        );
        return undefined;
      }
      return t;
    },
  }),
  identity: opt({
    kind: 'string',
    default: '',
    description: {
      drill:
        'The age identity (AGE-SECRET-KEY-1…) that decrypts the backups; pass it from a secret. Also read from LMS_BACKUP_IDENTITY. Default: none.',
      verify:
        'The age identity (AGE-SECRET-KEY-1…); pass it from a secret. Also read from LMS_BACKUP_IDENTITY. Default: none.',
      restore:
        'The age identity (AGE-SECRET-KEY-1…); pass it from a secret. Also read from LMS_BACKUP_IDENTITY. Default: none.',
      check:
        "The age identity (AGE-SECRET-KEY-1…) of the drill, checked against the recipients and the newest backup's header; pass it from a secret. Also read from LMS_BACKUP_IDENTITY. Default: none (the identity checks are skipped).",
    },
    help: 'age identity',
    env: ['LMS_BACKUP_IDENTITY'],
    secret: {
      instead:
        'the LMS_BACKUP_IDENTITY environment variable or an identity-file (in the action: the identity input, from a secret)',
    },
    parse: str,
  }),
  'identity-file': opt({
    kind: 'string',
    default: '',
    description:
      'A file holding age identities (as written by age-keygen or lms-backup keygen). Default: none.',
    help: 'age identity file (or $LMS_BACKUP_IDENTITY; passphrase: $LMS_BACKUP_PASSPHRASE)',
    arg: '<path>',
    parse: str,
  }),
  engine: opt<EngineChoice>({
    kind: 'string',
    default: 'auto',
    description:
      'The throwaway PostgreSQL: auto (Docker when a Docker engine answers, pulling postgres:<major> when absent; local binaries when Docker does not answer or its container does not start), docker or local. Default: auto.',
    help: 'throwaway PostgreSQL: auto (docker if it answers and its container starts, else local), docker, local',
    arg: '<engine>',
    parse: (raw, name, problems) => problems.try(() => parseEngine(raw as string, name)),
  }),
  'postgres-major': opt({
    kind: 'string',
    default: '',
    description: {
      drill:
        "Restore into this PostgreSQL major version (a cross-version drill). Default: the backup's server major.",
      check:
        "Start the drill engine's throwaway server of this major. Default: the newest backup's server major, else the database's.",
    },
    help: "restore into this PostgreSQL major (default: the backup's)",
    cliHelp: {
      check: "start the drill engine's throwaway server of this major (default: the newest backup's)",
    },
    arg: '<n>',
    parse: int(9),
  }),
  image: opt({
    kind: 'string',
    default: '',
    description: 'Docker image for the throwaway server. Default: postgres:<major>.',
    help: 'docker image (default postgres:<major>)',
    arg: '<image>',
    parse: str,
  }),
  'min-tables': opt({
    kind: 'string',
    default: '8',
    description: {
      drill: 'Fail when fewer tables than this are restored. Default: 8.',
      restore: 'Validation: fail when fewer tables than this are restored. Default: 8.',
    },
    help: 'fail when fewer tables are restored',
    arg: '<n>',
    parse: int(0),
  }),
  checks: opt({
    kind: 'string',
    default: '',
    description:
      'A JSON file of health checks, [{"name", "sql", "expected"}], run against the restored database. Default: none.',
    help: 'JSON file of health checks: [{"name","sql","expected"}]',
    arg: '<file>',
    parse: str,
  }),
  jobs: opt({
    kind: 'string',
    default: '',
    description: 'pg_restore parallel jobs. Default: the number of CPUs.',
    help: 'pg_restore parallel jobs (default: CPUs)',
    arg: '<n>',
    parse: int(1),
  }),
  rto: opt({
    kind: 'string',
    default: '4h',
    description: {
      drill:
        'Recovery time objective (e.g. 30m, 4h): the drill fails when recovery takes longer. Default: 4h.',
      report: 'Recovery time objective, e.g. 4h. Default: 4h.',
    },
    help: 'recovery time objective',
    arg: '<duration>',
    parse: objective,
  }),
  rpo: opt({
    kind: 'string',
    default: '24h',
    description: {
      drill:
        'Recovery point objective (e.g. 24h): the drill fails when the newest backup is older. Default: 24h.',
      report: 'Recovery point objective, e.g. 24h. Default: 24h.',
    },
    help: 'recovery point objective (age of the newest backup)',
    arg: '<duration>',
    parse: objective,
  }),
  'report-dir': opt({
    kind: 'string',
    default: '',
    description:
      "Also write the drill report (JSON and Markdown) here; it always goes to the destination's drill_logs/ too. Default: $RUNNER_TEMP/lms-backup-drill-reports.",
    help: "also write the report here (it always goes to the destination's drill_logs/)",
    arg: '<dir>',
    parse: str,
  }),
  'upload-report': opt({
    kind: 'bool',
    default: 'true',
    description: {
      drill: 'Upload the drill report as a workflow artifact. Default: true.',
      report: 'Upload the report files as a workflow artifact. Default: true.',
    },
    help: 'upload the report as a workflow artifact',
    actionOnly: true,
    parse: bool,
  }),
  'verified-only': opt({
    kind: 'bool',
    default: 'false',
    description: 'Restore the newest backup whose last drill passed. Default: false.',
    help: 'the newest backup whose last drill passed',
    parse: bool,
  }),
  'target-url': opt({
    kind: 'string',
    default: '',
    description:
      'The database to restore into, postgresql://user@host:5432/dbname (pass it from a secret; a password in it is masked). Default: none, then LMS_BACKUP_TARGET_URL, then the PG* variables. Required in effect: the step fails when none of these is set.',
    help: 'the database to restore into (also $LMS_BACKUP_TARGET_URL, else the PG* variables)',
    arg: '<url>',
    env: ['LMS_BACKUP_TARGET_URL'],
    parse: str,
  }),
  'files-to': opt({
    kind: 'string',
    default: '',
    description:
      "Restore the backup's files into this directory (each under its original path, without the leading /). A directory that is not empty is refused unless confirm names it. Without target-url, only the files (and Redis) are restored. Default: none.",
    help: "restore the backup's files into this directory",
    arg: '<dir>',
    parse: str,
  }),
  'files-path': opt({
    kind: 'string',
    default: '',
    description:
      'With files-to: restore only what lies under this path (e.g. /etc/nginx). Default: everything.',
    help: 'with --files-to: only what lies under this path',
    arg: '<path>',
    parse: str,
  }),
  'redis-to': opt({
    kind: 'string',
    default: '',
    description:
      "Restore the backup's Redis snapshot into this Redis (redis://host:6379; password in LMS_BACKUP_REDIS_PASSWORD or REDISCLI_AUTH): loaded into a throwaway redis-server, then every key copied with DUMP/RESTORE. A Redis that holds keys is refused unless confirm names it. Default: none.",
    help: "restore the backup's Redis snapshot into this Redis (password: $LMS_BACKUP_REDIS_PASSWORD)",
    arg: '<url>',
    parse: str,
  }),
  confirm: opt({
    kind: 'string',
    default: '',
    description:
      'The exact name of the target database, to allow restoring over a database that holds tables; with files-to, the directory, to allow restoring into one that is not empty; with redis-to, the Redis URL, to allow restoring into one that holds keys. Default: none (such a target is refused).',
    help: 'required to overwrite a database that holds tables: its exact name',
    arg: '<database>',
    parse: str,
  }),
  'safety-backup': opt({
    kind: 'bool',
    default: 'true',
    description: 'Back up a non-empty target before overwriting it. Default: true.',
    help: 'do not back up a non-empty target before overwriting it',
    parse: bool,
  }),
  'safety-to': opt({
    kind: 'list',
    default: '',
    description: "Where the safety backup goes (a path or storage URL). Default: the 'from' destination.",
    help: 'where the safety backup goes (default: --from)',
    arg: '<destination>',
    parse: list,
  }),
  force: opt({
    kind: 'bool',
    default: 'false',
    description: "Restore even into a server older than the backup's. Default: false.",
    help: "restore even into a server older than the backup's",
    parse: bool,
  }),
  'dry-run': opt({
    kind: 'bool',
    default: 'false',
    description: {
      restore: "Show the plan and the archive's table of contents; change nothing. Default: false.",
      prune: 'Show what would be deleted and why; delete nothing. Default: false.',
    },
    help: 'show what would happen; change nothing',
    parse: bool,
  }),
  tables: opt({
    kind: 'list',
    default: '',
    description: {
      restore:
        'Restore only these tables (schema.table), one per line or comma-separated, into a side database. Default: none (the whole database).',
      forget: 'The table the erased rows are in, as schema.table (one table per request). Required.',
    },
    help: 'restore only these tables (schema.table), into a side database (repeatable); forget: the table of the erased rows',
    arg: '<name>',
    aliases: ['--table'],
    parse: list,
  }),
  schemas: opt({
    kind: 'list',
    default: '',
    description:
      'Restore only these schemas, one per line or comma-separated, into a side database. Default: none.',
    help: 'restore only these schemas, into a side database (repeatable)',
    arg: '<name>',
    aliases: ['--schema'],
    parse: list,
  }),
  'create-roles': opt({
    kind: 'bool',
    default: 'false',
    description:
      "Create the roles the backup's owners, grants and policies need and the target lacks, from the backup's globals: NOLOGIN and without passwords (give the ones that log in a password afterwards). Without it, a target that lacks any of them is refused. Default: false.",
    help: 'create the roles the backup needs and the target lacks (NOLOGIN, no passwords)',
    parse: bool,
  }),
  'no-owner': opt({
    kind: 'bool',
    default: 'false',
    description:
      'Do not restore owners (pg_restore --no-owner): objects belong to the restoring user. Default: false (owners are kept).',
    help: 'do not restore owners (pg_restore --no-owner)',
    parse: bool,
  }),
  'no-privileges': opt({
    kind: 'bool',
    default: 'false',
    description: 'Do not restore grants (pg_restore --no-privileges). Default: false (grants are kept).',
    help: 'do not restore grants (pg_restore --no-privileges)',
    parse: bool,
  }),
  keys: opt({
    kind: 'list',
    default: '',
    description:
      'The keys of the rows to erase, one per line: column=value, several columns of one key joined by ";" (org_id=1;user_id=7). Values with commas go in keys-file. Default: none.',
    help: 'a key to erase: column=value (repeatable; a key of several columns: "a=1;b=2")',
    arg: '<column=value>',
    aliases: ['--key'],
    parse: list,
  }),
  'keys-file': opt({
    kind: 'string',
    default: '',
    description:
      'A CSV file of keys to erase: a header row naming the key columns, then one row per key. Default: none.',
    help: 'a CSV file of keys: a header row naming the key columns, then one row per key',
    arg: '<file>',
    parse: str,
  }),
  reference: opt({
    kind: 'string',
    default: '',
    description:
      "The erasure request's reference, e.g. its ticket id; recorded in the ledger entry. Required.",
    help: "the request's reference, e.g. a ticket id (required)",
    arg: '<ref>',
    parse: str,
  }),
  apply: opt({
    kind: 'bool',
    default: 'false',
    description:
      'Also delete the rows in the live database (database-url), in one transaction, after the ledger entry is stored; the rows removed are reported. Default: false (the live database is not touched).',
    help: 'also delete the rows in the live database, in one transaction',
    parse: bool,
  }),
  erasures: opt({
    kind: 'bool',
    default: 'true',
    description: {
      restore:
        'Replay the erasure ledger (erasures/) into the restored data before reporting success. false (--no-erasures) is for forensics only: erased rows come back, which the output and the run record say loudly, and it is refused over a database that holds tables (restore into an empty or a side database). Default: true.',
      drill:
        'Replay the erasure ledger in the throwaway server. With false (--no-erasures) the drill still looks every erased key up, and fails when one is present. Default: true.',
    },
    help: 'do not replay the erasure ledger (forensics, into an isolated database; said loudly)',
    parse: bool,
  }),
  'keep-days': opt({
    kind: 'string',
    default: String(DEFAULT_RETENTION_POLICY.keepDays),
    description: {
      prune: `Keep every complete backup younger than this many days (at least 1). Default: ${DEFAULT_RETENTION_POLICY.keepDays}.`,
      report: `The retention objective in days: backups should reach this far back. Default: ${DEFAULT_RETENTION_POLICY.keepDays}.`,
    },
    help: 'keep every backup younger than this many days (>= 1)',
    arg: '<n>',
    parse: int(1),
  }),
  'keep-daily': opt({
    kind: 'string',
    default: String(DEFAULT_RETENTION_POLICY.keepDaily),
    description: `Keep the newest backup of each of the last N days. Default: ${DEFAULT_RETENTION_POLICY.keepDaily}.`,
    help: 'also keep the newest backup of each of the last N days',
    arg: '<n>',
    parse: int(0),
  }),
  'keep-weekly': opt({
    kind: 'string',
    default: String(DEFAULT_RETENTION_POLICY.keepWeekly),
    description: `Keep the newest backup of each of the last N ISO weeks. Default: ${DEFAULT_RETENTION_POLICY.keepWeekly}.`,
    help: 'also keep the newest backup of each of the last N ISO weeks',
    arg: '<n>',
    parse: int(0),
  }),
  'keep-monthly': opt({
    kind: 'string',
    default: String(DEFAULT_RETENTION_POLICY.keepMonthly),
    description: `Keep the newest backup of each of the last N months. Default: ${DEFAULT_RETENTION_POLICY.keepMonthly}.`,
    help: 'also keep the newest backup of each of the last N months',
    arg: '<n>',
    parse: int(0),
  }),
  'keep-min': opt({
    kind: 'string',
    default: String(DEFAULT_RETENTION_POLICY.keepMin),
    description: `Never keep fewer than this many complete backups. Default: ${DEFAULT_RETENTION_POLICY.keepMin}.`,
    help: 'never keep fewer complete backups than this',
    arg: '<n>',
    parse: int(0),
  }),
  'window-days': opt({
    kind: 'string',
    default: '30',
    description: 'How many days the report covers. Default: 30.',
    help: 'days to report on',
    arg: '<days>',
    aliases: ['--window'],
    parse: int(1),
  }),
  'fail-on': opt<FailOnCondition[]>({
    kind: 'list',
    default: '',
    description:
      'Fail the step when any of these conditions holds (comma-separated): stale (the newest complete backup is older than the RPO), rpo (a gap between backups over the RPO), rto (the last measured recovery over the RTO, or none measured), drill (the last drill failed, or none in the window). Default: none (report only).',
    help: 'exit 1 when any of these trip: stale, rpo, rto, drill (comma-separated)',
    arg: '<conditions>',
    parse: (raw, name, problems) =>
      parseEnumList(raw as string[], FAIL_ON_CONDITIONS, problems, (v) => ({
        message: `${name} "${v}" is not a condition`,
        hint: `use a comma-separated list of ${FAIL_ON_CONDITIONS.join(', ')} (or leave it empty)`,
      })),
  }),
  'output-dir': opt({
    kind: 'string',
    default: 'lms-backup-report',
    cliDefault: '',
    description: 'Directory for report.md, report.json and report.html. Default: lms-backup-report.',
    help: 'write report.md, report.json and report.html here (default on the CLI: none)',
    arg: '<dir>',
    aliases: ['--out-dir'],
    parse: str,
  }),
  formats: opt<ReportFormat[]>({
    kind: 'list',
    default: 'markdown,json,html',
    description:
      'Which report files to write: markdown, json, html (comma-separated). Default: markdown,json,html.',
    help: 'files to write: markdown, json, html (comma-separated)',
    arg: '<f>',
    aliases: ['--format'],
    parse: (raw, name, problems) =>
      parseEnumList(raw as string[], REPORT_FORMATS, problems, (v) => ({
        message: `${name}: "${v}" is not a report format`,
        hint: `use ${REPORT_FORMATS.join(', ')}`,
      })),
  }),
} as const satisfies Record<string, OptionSpec<never> | OptionSpec<unknown>>;

export type OptionName = keyof typeof OPTIONS;
type SpecOf<N extends OptionName> = (typeof OPTIONS)[N];
/** The parsed type of an option. */
export type ValueOf<N extends OptionName> = SpecOf<N> extends OptionSpec<infer T> ? T : never;

/** Which options each command takes, in the order of its action.yml and --help. */
export const COMMAND_OPTIONS = {
  backup: [
    'config',
    'database',
    'database-url',
    'compose-file',
    'compose-service',
    'compose-project',
    'compose-profile',
    'destinations',
    'prefix',
    'compression',
    'recipients',
    'recipients-file',
    'passphrase',
    'encryption',
    'min-bytes',
    'files',
    'files-exclude',
    'redis-url',
    'notify-min-severity',
  ],
  drill: [
    'config',
    'database',
    'from',
    'backup',
    'before',
    'identity',
    'identity-file',
    'passphrase',
    'engine',
    'postgres-major',
    'image',
    'min-tables',
    'checks',
    'jobs',
    'rto',
    'rpo',
    'report-dir',
    'upload-report',
    'notify-min-severity',
    'erasures',
  ],
  verify: ['config', 'database', 'from', 'backup', 'before', 'identity', 'identity-file', 'passphrase'],
  restore: [
    'config',
    'database',
    'from',
    'backup',
    'before',
    'verified-only',
    'target-url',
    'compose-file',
    'compose-service',
    'compose-project',
    'compose-profile',
    'identity',
    'identity-file',
    'passphrase',
    'confirm',
    'safety-backup',
    'safety-to',
    'force',
    'dry-run',
    'tables',
    'schemas',
    'create-roles',
    'no-owner',
    'no-privileges',
    'jobs',
    'min-tables',
    'files-to',
    'files-path',
    'redis-to',
    'erasures',
  ],
  prune: [
    'config',
    'database',
    'destinations',
    'keep-days',
    'keep-daily',
    'keep-weekly',
    'keep-monthly',
    'keep-min',
    'dry-run',
  ],
  report: [
    'config',
    'database',
    'destinations',
    'window-days',
    'rpo',
    'rto',
    'keep-days',
    'keep-daily',
    'keep-weekly',
    'keep-monthly',
    'keep-min',
    'fail-on',
    'output-dir',
    'formats',
    'upload-report',
  ],
  check: [
    'config',
    'database',
    'database-url',
    'destinations',
    'recipients',
    'recipients-file',
    'passphrase',
    'encryption',
    'identity',
    'identity-file',
    'engine',
    'postgres-major',
    'image',
  ],
  forget: [
    'config',
    'database',
    'database-url',
    'destinations',
    'tables',
    'keys',
    'keys-file',
    'reference',
    'recipients',
    'recipients-file',
    'passphrase',
    'encryption',
    'apply',
  ],
  list: ['config', 'database', 'from'],
} as const satisfies Record<CommandName, readonly OptionName[]>;

/** Options that choose the file and the database: read from flags/inputs only, never from the file. */
export const FILE_OPTIONS: readonly OptionName[] = ['config', 'database'];

export function specOf(name: OptionName): OptionSpec {
  return OPTIONS[name] as OptionSpec;
}

/** The action.yml description of an option for one command. */
export function descriptionOf(name: OptionName, command: CommandName): string {
  const d = specOf(name).description;
  if (typeof d === 'string') return d;
  const text = d[command];
  if (text === undefined) throw new Error(`bug: option ${name} has no description for ${command}`);
  return text;
}

/** The commands that take an option (for the reference and the schema). */
export function commandsOf(name: OptionName): CommandName[] {
  return COMMANDS.filter((c) => (COMMAND_OPTIONS[c] as readonly string[]).includes(name));
}
