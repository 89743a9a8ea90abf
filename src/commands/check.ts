/**
 * `check`: every part of a setup, before the first night. A list of named checks, each run with
 * its own time bound, each answering {name, ok, detail, fix, skipped}: the connection and the
 * read access of the backup user, the globals, where pg_dump and pg_restore of the server's major
 * would run, each destination (write, read back, list and delete a probe object), the keys, the
 * drill engine (a throwaway server started and stopped), staging disk space, webhooks and the
 * workflow's permissions. Nothing is posted, nothing of a backup is touched; a check that cannot
 * know something says so instead of passing it.
 */
import { rmdir, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { listBackups } from '../catalog/catalog.js';
import { PROBE_PREFIX } from '../catalog/layout.js';
import type { Manifest } from '../catalog/types.js';
import { type DecryptionKeys, type EncryptionInput, Problems, resolveEncryption } from '../config.js';
import { createAgeDecryptStream, recipientOf } from '../crypto/age.js';
import { startThrowawayPostgres } from '../engines/index.js';
import type { EngineChoice } from '../engines/types.js';
import { probeDirectory } from '../files.js';
import type { Logger } from '../log.js';
import {
  connect,
  majorOfVersionNum,
  type PgClient,
  quoteIdent,
  type ServerInfo,
  serverInfo,
} from '../postgres/client.js';
import { describeConnection, type PgConnection } from '../postgres/connection.js';
import { readGlobals } from '../postgres/globals.js';
import {
  describeTool,
  type ResolvedTool,
  type ResolveToolOptions,
  resolvePgTool,
  toolWhere,
} from '../postgres/tools.js';
import { redactUrl, redactValue } from '../redact.js';
import { formatBytes, webhookDisplay } from '../report/format.js';
import type { NotifierConfig } from '../report/notify.js';
import { directoryExists, fsWatchFor } from '../storage/fs-watch.js';
import { bufferSource } from '../storage/source.js';
import { formatSeconds } from '../storage/timeouts.js';
import type { Storage } from '../storage/types.js';
import { assertNotFilteredByRls } from './backup.js';
import { probeKey } from './check-probe.js';

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do when it failed (or, for a skipped check, how to make it run). */
  fix?: string;
  /** Not run: nothing to check, or a check it depends on failed. `ok` is true. */
  skipped?: boolean;
  durationMs: number;
}

export interface CheckReport {
  ok: boolean;
  checks: CheckResult[];
  passed: number;
  failed: number;
  skipped: number;
}

export interface CheckConfig {
  connection: PgConnection;
  /** Every destination the backup writes and the drill reads, deduplicated. */
  destinations: Storage[];
  /** The backup's encryption settings, checked here rather than refused (see resolveEncryption). */
  encryption: EncryptionInput;
  /** Identities (from identity, identity-file) and passphrase, when given. */
  keys: DecryptionKeys;
  engine: EngineChoice;
  image?: string;
  /** The drill's major when set; else the newest backup's, else the server's. */
  postgresMajor?: number;
  notifiers: NotifierConfig[];
  /** Where a backup stages its dump when no destination is local (default: the OS temp dir). */
  stagingDir?: string;
  /**
   * How the backup's tool resolver is asked where pg_dump and pg_restore run (e.g. a route of a
   * compose service, when the resolver has one): merged into the options of every resolve.
   */
  toolOptions?: Partial<ResolveToolOptions>;
  /** Values that must never appear in any detail or fix (passwords, identities, tokens). */
  secrets?: string[];
}

export interface CheckDeps {
  logger: Logger;
  env?: NodeJS.ProcessEnv;
  /**
   * Where pg tools run: the one resolver of the backup and the drill (local binaries, a major's
   * image, and whatever other route it knows). Injectable for tests.
   */
  resolveTool?: typeof resolvePgTool;
  /** Bounds of the checks, in milliseconds (tests shorten them). */
  bounds?: Partial<typeof CHECK_BOUNDS>;
}

/** How long each kind of check may take before it fails with a timeout. */
export const CHECK_BOUNDS = {
  database: 30_000,
  tools: 180_000,
  /** A destination's probe: its own storage bounds are shorter; this is the outer guard. */
  destination: 120_000,
  keys: 60_000,
  engine: 300_000,
  disk: 30_000,
  webhook: 15_000,
  other: 15_000,
};

class CheckTimeout extends Error {}

async function bounded<T>(ms: number, what: string, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new CheckTimeout(`${what} did not finish within ${formatSeconds(ms)}`)),
      ms,
    );
  });
  try {
    return await Promise.race([fn(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

type Outcome = Omit<CheckResult, 'name' | 'durationMs'>;
const pass = (detail: string): Outcome => ({ ok: true, detail });
const fail = (detail: string, fix?: string): Outcome => ({ ok: false, detail, ...(fix ? { fix } : {}) });
const skip = (detail: string, fix?: string): Outcome => ({
  ok: true,
  skipped: true,
  detail,
  ...(fix ? { fix } : {}),
});

/** A thrown error as a failed check: its message, and its hint as the fix. */
function failed(error: unknown, fix?: string): Outcome {
  const hint = (error as { hint?: unknown })?.hint;
  const message = error instanceof Error ? error.message || error.name : String(error);
  return fail(message, typeof hint === 'string' ? hint : fix);
}

/** What the checks learn that later checks need. */
interface Facts {
  server?: ServerInfo;
  databaseBytes?: number;
  pgDump?: ResolvedTool;
  newest?: { manifest: Manifest; storage: Storage } | null;
}

export async function runCheck(config: CheckConfig, deps: CheckDeps): Promise<CheckReport> {
  const { logger } = deps;
  const env = deps.env ?? process.env;
  const bounds = { ...CHECK_BOUNDS, ...deps.bounds };
  const resolveTool = deps.resolveTool ?? resolvePgTool;
  const toolOptions: ResolveToolOptions = { env, logger, ...config.toolOptions };
  const checks: CheckResult[] = [];
  const facts: Facts = {};
  const secrets = [
    ...(config.secrets ?? []),
    ...(config.connection.password ? [config.connection.password] : []),
    ...config.keys.identities,
    ...(config.keys.passphrase ? [config.keys.passphrase] : []),
    ...(config.encryption.passphrase ? [config.encryption.passphrase] : []),
    ...config.notifiers.map((n) => n.url),
  ].filter((s) => s.length >= 4);
  const scrub = (text: string) => {
    let out = redactUrl(text);
    for (const s of secrets) out = redactValue(out, s);
    return out;
  };

  const step = async (name: string, ms: number, fn: () => Promise<Outcome>): Promise<CheckResult> => {
    const started = Date.now();
    let outcome: Outcome;
    try {
      outcome = await bounded(ms, name, fn);
    } catch (error) {
      outcome =
        error instanceof CheckTimeout
          ? fail(error.message, 'find out what is slow or does not answer: the check gave up waiting')
          : failed(error);
    }
    const result: CheckResult = {
      name,
      ok: outcome.ok,
      detail: scrub(outcome.detail),
      ...(outcome.fix ? { fix: scrub(outcome.fix) } : {}),
      ...(outcome.skipped ? { skipped: true } : {}),
      durationMs: Date.now() - started,
    };
    checks.push(result);
    // The caller prints the report; the log only traces progress.
    logger.debug(`${result.skipped ? '–' : result.ok ? '✓' : '✗'} ${name}: ${result.detail}`);
    return result;
  };

  // The database: connection, read access, globals, size.
  let client: PgClient | undefined;
  const where = describeConnection(config.connection);
  const db = await step('database connection', bounds.database, async () => {
    client = await connect(config.connection, { timeoutMs: Math.min(15_000, bounds.database) });
    facts.server = await serverInfo(client);
    return pass(`PostgreSQL ${facts.server.version} at ${where}, as user "${config.connection.user}"`);
  });
  const noDb = skip('not checked: the database connection failed', 'fix the database connection first');
  try {
    if (db.ok && client) {
      const c = client;
      await step('read access to every table', bounds.database, async () => {
        await assertNotFilteredByRls(c, config.connection);
        const r = await c.query<{ t: string }>(`
          SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS t
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relkind IN ('r', 'p', 'm', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
            AND n.nspname !~ '^pg_toast'
            AND NOT (has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT'))
          ORDER BY 1`);
        if (r.rows.length) {
          const names = r.rows.map((x) => x.t);
          return fail(
            `user "${config.connection.user}" cannot read ${names.length} table(s): ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''}; pg_dump would fail`,
            `grant it SELECT (e.g. GRANT pg_read_all_data TO ${quoteIdent(config.connection.user)} on PostgreSQL 14+), or back up as the owner or a superuser`,
          );
        }
        const n = await c.query<{ n: string; su: boolean; bypass: boolean }>(`
          SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
                  WHERE c.relkind IN ('r', 'p') AND s.nspname NOT IN ('pg_catalog', 'information_schema')) AS n,
                 rolsuper AS su, rolbypassrls AS bypass FROM pg_roles WHERE rolname = current_user`);
        const row = n.rows[0]!;
        const how = row.su ? 'a superuser' : row.bypass ? 'BYPASSRLS' : 'no row-level security hides rows';
        return pass(`user "${config.connection.user}" reads every row of ${row.n} table(s) (${how})`);
      });
      await step('roles and globals readable', bounds.database, async () => {
        const g = await readGlobals(c);
        return pass(
          `${g.roles.length} role(s), ${g.memberships.length} membership(s), ${g.tablespaces.length} tablespace(s) read from pg_roles, pg_auth_members and pg_tablespace`,
        );
      });
      const size = await c
        .query<{ b: string }>('SELECT pg_database_size(current_database()) AS b')
        .catch(() => undefined);
      if (size) facts.databaseBytes = Number(size.rows[0]!.b);
    } else {
      await step('read access to every table', bounds.other, async () => noDb);
      await step('roles and globals readable', bounds.other, async () => noDb);
    }
  } finally {
    await (client as PgClient | undefined)?.end().catch(() => {});
  }

  // Where pg_dump and pg_restore would run, for the server's major.
  await step('pg_dump for the server', bounds.tools, async () => {
    if (!facts.server) return noDb;
    const s = facts.server;
    facts.pgDump = await resolveTool('pg_dump', s.major, `a PostgreSQL ${s.version} server`, toolOptions);
    return pass(`${describeTool(facts.pgDump)} (runs ${whereText(facts.pgDump)})`);
  });
  await step('pg_restore for its archives', bounds.tools, async () => {
    if (!facts.pgDump) return skip('not checked: no pg_dump to write the archive', 'fix pg_dump first');
    const r = await resolveTool(
      'pg_restore',
      facts.pgDump.major,
      `an archive written by pg_dump ${facts.pgDump.version}`,
      toolOptions,
    );
    return pass(
      `${describeTool(r)} (runs ${whereText(r)}) reads archives of pg_dump ${facts.pgDump.version}`,
    );
  });

  // Each destination: a probe object written, read back, listed and deleted.
  if (config.destinations.length === 0) {
    await step('destinations', bounds.other, async () =>
      fail('no destination is configured', 'give destinations (a path or a storage URL)'),
    );
  }
  for (const storage of config.destinations) {
    await step(`destination ${storage.display}`, bounds.destination, () => probeDestination(storage, env));
  }

  // Encryption: the recipients, and the identity against them and the newest backup.
  await step('encryption recipients', bounds.keys, async () => {
    const problems = new Problems();
    const enc = resolveEncryption(config.encryption, problems);
    if (!enc) {
      const p = problems.list;
      return fail(p.map((x) => x.message).join('; '), p.find((x) => x.hint)?.hint);
    }
    if (enc.mode === 'none')
      return pass('encryption is off (an explicit opt-out): dumps are stored in plaintext');
    if (enc.passphrase) return pass('age passphrase (scrypt) mode');
    return pass(`${enc.recipients.length} valid age recipient(s)`);
  });
  await step('identity matches a recipient', bounds.keys, async () => {
    if (!config.keys.identities.length) {
      return skip(
        'no identity given (only drill, verify and restore need it)',
        'give identity-file (or LMS_BACKUP_IDENTITY) to check it against the recipients',
      );
    }
    const recipients = new Set(recipientsOf(config.encryption).map((r) => r.toLowerCase()));
    if (!recipients.size) {
      return skip('no recipients to compare with', 'give recipients (or recipients-file) of the backup');
    }
    const own = config.keys.identities.map((id) => recipientOf(id));
    const matching = own.filter((r) => recipients.has(r));
    if (!matching.length) {
      return fail(
        `none of the ${own.length} identit${own.length === 1 ? 'y' : 'ies'} (public key${own.length === 1 ? '' : 's'} ${own.join(', ')}) is a recipient of the backups (${[...recipients].join(', ')})`,
        'give the identity whose public key is among the recipients (age-keygen -y identity.txt prints it), or add its public key to recipients; backups encrypted to other recipients cannot be read with this identity',
      );
    }
    return pass(`identity of ${matching.join(', ')} is a recipient`);
  });
  await step("identity decrypts the newest backup's header", bounds.keys, async () => {
    if (!config.keys.identities.length && !config.keys.passphrase) {
      return skip('no identity given', 'give identity-file (or LMS_BACKUP_IDENTITY)');
    }
    const newest = await newestBackup(config.destinations, facts);
    if (!newest) return skip('no complete backup yet: run a backup, then check again');
    const { manifest, storage } = newest;
    if (manifest.encryption.scheme !== 'age') return skip(`${manifest.id} is not encrypted`);
    const key = manifest.object.key;
    await readFirstChunk(await storage.get(key), config.keys);
    return pass(`${key} in ${storage.display}: header unwrapped and the first chunk authenticated`);
  });

  // The drill engine: a throwaway server of the backup's major, started and stopped.
  await step('drill engine', bounds.engine, async () => {
    const newest = await newestBackup(config.destinations, facts).catch(() => null);
    const major =
      config.postgresMajor ??
      (newest ? majorOfVersionNum(newest.manifest.source.serverVersionNum) : facts.server?.major);
    const started = Date.now();
    const server = await startThrowawayPostgres(config.engine, {
      ...(major !== undefined ? { major } : {}),
      ...(config.image ? { image: config.image } : {}),
      logger,
    });
    const upMs = Date.now() - started;
    await server.stop();
    const fallbacks = server.fallbacks?.length ? `; auto passed over: ${server.fallbacks.join('; ')}` : '';
    return pass(
      `engine ${config.engine}: PostgreSQL ${server.serverVersion} (${server.description}) started in ${formatSeconds(upMs)} and stopped${fallbacks}`,
    );
  });

  // Staging disk space against the database's size.
  await step('staging disk space', bounds.disk, async () => {
    const local = config.destinations.find((d) => d.kind === 'local');
    const dir = local ? local.display : (config.stagingDir ?? tmpdir());
    const st = await statfs(dir).catch(() => statfs(join(dir, '..')));
    const free = Number(st.bavail) * Number(st.bsize);
    const newest = await newestBackup(config.destinations, facts).catch(() => null);
    const need = newest ? Math.ceil(newest.manifest.object.bytes * 1.5) : facts.databaseBytes;
    const basis = newest
      ? `1.5 × the newest backup (${formatBytes(newest.manifest.object.bytes)})`
      : `the database's size`;
    if (need === undefined) {
      return skip(`${formatBytes(free)} free in ${dir}; the database's size is unknown (no connection)`);
    }
    if (free < need) {
      return fail(
        `${formatBytes(free)} free in ${dir}, less than ${formatBytes(need)} (${basis})`,
        local
          ? `free space in ${dir}, or give a destination on a larger disk`
          : 'free space there, or point TMPDIR at a larger disk (cloud-only destinations stage there)',
      );
    }
    return pass(`${formatBytes(free)} free in ${dir}, at least ${formatBytes(need)} needed (${basis})`);
  });

  // Webhooks: reachable, without posting a message.
  if (!config.notifiers.length) {
    await step('webhooks', bounds.other, async () =>
      skip(
        'no webhook configured (optional)',
        'set LMS_BACKUP_SLACK_WEBHOOK_URL, LMS_BACKUP_TEAMS_WEBHOOK_URL, LMS_BACKUP_WEBHOOK_URL or LMS_BACKUP_HEARTBEAT_URL to be alerted',
      ),
    );
  }
  for (const n of config.notifiers) {
    await step(`webhook ${n.kind} ${webhookDisplay(n.url)}`, bounds.webhook, () =>
      probeWebhook(n, bounds.webhook),
    );
  }

  // The workflow's permissions, as far as the environment tells.
  await step('workflow permissions', bounds.other, async () => workflowPermissions(config, env));

  const failedCount = checks.filter((c) => !c.ok).length;
  const skipped = checks.filter((c) => c.skipped).length;
  return {
    ok: failedCount === 0,
    checks,
    passed: checks.length - failedCount - skipped,
    failed: failedCount,
    skipped,
  };
}

/**
 * Where a resolved tool runs, as the resolver says: every route it knows (a local binary, the
 * major's image in a container, and any route added to it later) is reported from here.
 */
function whereText(tool: ResolvedTool): string {
  const where: string = toolWhere(tool);
  if (where === 'local') return 'locally';
  if (where === 'container' && tool.image) return `in a container from ${tool.image}`;
  return where;
}

function recipientsOf(input: EncryptionInput): string[] {
  const problems = new Problems();
  const enc = resolveEncryption({ ...input, passphrase: undefined, noEncryption: false }, problems);
  return enc && enc.mode === 'age' ? enc.recipients : [];
}

async function newestBackup(
  destinations: Storage[],
  facts: Facts,
): Promise<{ manifest: Manifest; storage: Storage } | null> {
  if (facts.newest !== undefined) return facts.newest;
  let best: { manifest: Manifest; storage: Storage } | null = null;
  for (const storage of destinations) {
    const entries = await listBackups(storage, { withDrills: false }).catch(() => []);
    const m = entries.find((e) => e.state === 'complete')?.manifest;
    if (m && (!best || m.createdAt > best.manifest.createdAt)) best = { manifest: m, storage };
  }
  facts.newest = best;
  return best;
}

/** Decrypts up to the first authenticated chunk, then stops reading. */
async function readFirstChunk(source: Readable, keys: DecryptionKeys): Promise<void> {
  const decrypt = createAgeDecryptStream({
    identities: keys.identities,
    ...(keys.passphrase ? { passphrase: keys.passphrase } : {}),
  });
  const FIRST = Symbol('first chunk');
  const sink = new Writable({
    write(_chunk, _enc, cb) {
      cb(Object.assign(new Error('done'), { [FIRST]: true }));
    },
  });
  try {
    await pipeline(source, decrypt, sink);
  } catch (error) {
    if ((error as Record<symbol, unknown>)[FIRST]) return;
    throw error;
  } finally {
    source.destroy();
  }
}

const PROBE_TEXT = 'lms-backup check probe: safe to delete; never a backup\n';

async function probeDestination(storage: Storage, env: NodeJS.ProcessEnv): Promise<Outcome> {
  const key = probeKey();
  const done: string[] = [];
  const body = Buffer.from(`${PROBE_TEXT}${new Date().toISOString()}\n`);
  let written = false;
  // A local root the probe creates is removed again with it: a check leaves nothing behind.
  const localRoot = storage.kind === 'local' ? storage.display : undefined;
  // Every call there is bounded by the root's watch: a hung mount fails the check, not hangs it.
  const watch = localRoot ? fsWatchFor(localRoot) : undefined;
  const io = watch?.calls('put');
  let rootExisted = true;
  try {
    // A local directory says why it cannot be written (read-only, permissions) before the put.
    if (localRoot) {
      rootExisted = await directoryExists(localRoot, 'put');
      await probeDirectory(join(localRoot, PROBE_PREFIX), `${storage.display}:`, undefined, io);
    }
    await storage.put(key, bufferSource(body));
    written = true;
    done.push('write');
    const chunks: Buffer[] = [];
    await pipeline(
      await storage.get(key),
      new Writable({
        write(c: Buffer, _e, cb) {
          chunks.push(c);
          cb();
        },
      }),
    );
    if (!Buffer.concat(chunks).equals(body)) {
      return fail(`${storage.display}: ${key} read back different bytes than were written`);
    }
    done.push('read back');
    let listed = false;
    for await (const o of storage.list(PROBE_PREFIX)) if (o.key === key) listed = true;
    if (!listed)
      return fail(`${storage.display}: ${key} was written but the listing of check/ does not show it`);
    done.push('list');
    await storage.delete(key);
    if (await storage.head(key)) return fail(`${storage.display}: ${key} is still there after delete`);
    written = false;
    done.push('delete');
    const expiry = credentialExpiry(storage, env);
    return pass(`${done.join(', ')}: ok (probe ${key})${expiry ? `; ${expiry}` : ''}`);
  } catch (error) {
    const what = ['write', 'read back', 'list', 'delete'][done.length];
    const out = failed(
      error,
      `make ${storage.display} writable, readable, listable and deletable by these credentials`,
    );
    return {
      ...out,
      detail: `${what} failed${done.length ? ` (after ${done.join(', ')} worked)` : ''}: ${out.detail}`,
      ...(what === 'delete' && !out.fix
        ? { fix: 'prune needs delete permission to apply retention: grant it to these credentials' }
        : {}),
    };
  } finally {
    if (written) await storage.delete(key).catch(() => {});
    if (localRoot && io) {
      for (const dir of [join(localRoot, PROBE_PREFIX), ...(rootExisted ? [] : [localRoot])]) {
        await io('rmdir', () => rmdir(dir)).catch(() => {});
      }
    }
  }
}

/** What the credentials say about their own expiry, where they tell (an Azure SAS token's se=). */
function credentialExpiry(storage: Storage, env: NodeJS.ProcessEnv): string | undefined {
  if (storage.kind === 'azure' && env.AZURE_STORAGE_SAS_TOKEN && !env.AZURE_STORAGE_CONNECTION_STRING) {
    const se = new URLSearchParams(env.AZURE_STORAGE_SAS_TOKEN.replace(/^\?/, '')).get('se');
    if (se) {
      const at = new Date(se);
      if (!Number.isNaN(at.getTime())) {
        const days = Math.floor((at.getTime() - Date.now()) / 86_400_000);
        return `the SAS token expires ${at.toISOString()} (${days < 0 ? 'already expired' : `in ${days} day(s)`})`;
      }
    }
  }
  if (storage.kind === 's3' && env.AWS_SESSION_TOKEN) {
    return 'temporary AWS credentials (their expiry is not told here: refresh them in every run, e.g. by OIDC)';
  }
  return undefined;
}

async function probeWebhook(n: NotifierConfig, ms: number): Promise<Outcome> {
  const display = webhookDisplay(n.url);
  const ask = async (method: 'HEAD' | 'GET') =>
    fetch(n.url, { method, redirect: 'manual', signal: AbortSignal.timeout(Math.max(1000, ms - 1000)) });
  let res: Response;
  try {
    res = await ask('HEAD');
    if (res.status === 405 || res.status === 501) res = await ask('GET');
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return fail(
      `${display} does not answer (${cause?.code ?? cause?.message ?? (error as Error).name})`,
      'check the URL and that this machine may reach it (proxy, firewall)',
    );
  }
  await res.body?.cancel().catch(() => {});
  if (res.status === 404 || res.status === 410) {
    return fail(
      `${display} answered HTTP ${res.status}: the webhook may have been deleted`,
      'create a new webhook and update its secret',
    );
  }
  if (res.status >= 500) {
    return fail(`${display} answered HTTP ${res.status}`, 'the service has trouble: try again later');
  }
  return pass(`${display} answered HTTP ${res.status} (reachable; no message was posted)`);
}

function workflowPermissions(config: CheckConfig, env: NodeJS.ProcessEnv): Outcome {
  if (env.GITHUB_ACTIONS !== 'true') {
    return skip(
      "not running in a GitHub Actions workflow: the workflow's permissions are checked when check runs there",
    );
  }
  const known: string[] = [];
  const unknown: string[] = ['the GITHUB_TOKEN scopes (contents: read is enough) cannot be read from a step'];
  const problems: string[] = [];
  const fixes: string[] = [];
  if (env.ACTIONS_RUNTIME_TOKEN && env.ACTIONS_RESULTS_URL) {
    known.push('artifact upload available (drill and report artifacts)');
  } else {
    unknown.push('artifact upload: this step gets no ACTIONS_RUNTIME_TOKEN (a run: step never does)');
  }
  const cloud = config.destinations.filter((d) => d.kind !== 'local');
  const staticCreds =
    env.AZURE_STORAGE_CONNECTION_STRING ||
    env.AZURE_STORAGE_SAS_TOKEN ||
    env.AZURE_STORAGE_KEY ||
    env.AWS_ACCESS_KEY_ID ||
    env.GOOGLE_APPLICATION_CREDENTIALS;
  if (cloud.length && !staticCreds) {
    if (env.ACTIONS_ID_TOKEN_REQUEST_URL) known.push('id-token: write granted (OIDC logins can run)');
    else {
      problems.push(
        `${cloud.map((d) => d.display).join(', ')} need credentials: none is in the environment and the job cannot request an OIDC token`,
      );
      fixes.push(
        'add "permissions: id-token: write" to the job and an OIDC login step (azure/login, aws-actions/configure-aws-credentials, google-github-actions/auth) before this one, or pass storage credentials from secrets in env:',
      );
    }
  }
  const detail = [
    ...problems,
    ...(known.length ? [`known: ${known.join('; ')}`] : []),
    `not checkable: ${unknown.join('; ')}`,
  ].join('; ');
  return problems.length ? fail(detail, fixes.join('; ')) : pass(detail);
}

/** The report as lines a person reads: ✓, ✗ or – per check, with the fix under a failure. */
export function renderCheckReport(report: CheckReport): string {
  const lines: string[] = [];
  for (const c of report.checks) {
    const mark = c.skipped ? '–' : c.ok ? '✓' : '✗';
    lines.push(`${mark} ${c.name}: ${c.detail}`);
    if (c.fix && (!c.ok || c.skipped)) lines.push(`    fix: ${c.fix}`);
  }
  lines.push(
    '',
    report.ok
      ? `all checks passed (${report.passed} passed, ${report.skipped} skipped)`
      : `${report.failed} check(s) failed, ${report.passed} passed, ${report.skipped} skipped`,
  );
  return `${lines.join('\n')}\n`;
}
