import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/catalog/types.js';
import { RlsFilteredError, runBackup } from '../../src/commands/backup.js';
import { runDrill } from '../../src/commands/drill.js';
import { MissingRolesError, type RestoreConfig, runRestore } from '../../src/commands/restore.js';
import { runVerify } from '../../src/commands/verify.js';
import { generateIdentity } from '../../src/crypto/age.js';
import { startLocalPostgres } from '../../src/engines/local.js';
import type { ThrowawayPostgres } from '../../src/engines/types.js';
import { MemoryLogger } from '../../src/log.js';
import { connect } from '../../src/postgres/client.js';
import { type PgConnection, withDatabase } from '../../src/postgres/connection.js';
import { openStorage } from '../../src/storage/index.js';
import { query, tempDir } from '../helpers/pg.js';

const TORTURE = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'torture.sql'), 'utf8');
const keys = generateIdentity();

let source: ThrowawayPostgres;
let src: PgConnection;
let dir: string;
let manifest: Manifest;
const cleanup: { remove(): void }[] = [];
const servers: ThrowawayPostgres[] = [];

/** Catalog facts a faithful restore must keep: owners, ACLs, policies, defaults, large objects. */
const FACTS_SQL = {
  owners: `SELECT n.nspname || '.' || c.relname AS o, pg_get_userbyid(c.relowner) AS owner
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname IN ('app', 'Weird Schema') ORDER BY 1`,
  acls: `SELECT n.nspname || '.' || c.relname AS o, c.relacl::text AS acl,
                (SELECT string_agg(a.attname || '=' || a.attacl::text, ';' ORDER BY a.attname)
                 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL) AS columns
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname IN ('app', 'Weird Schema') AND c.relacl IS NOT NULL ORDER BY 1`,
  policies: `SELECT schemaname, tablename, policyname, permissive, roles::text, cmd, qual, with_check
             FROM pg_policies ORDER BY 1, 2, 3`,
  defaults: `SELECT table_schema, table_name, column_name, column_default, is_identity, is_generated,
                    generation_expression, domain_name
             FROM information_schema.columns WHERE table_schema IN ('app', 'Weird Schema') ORDER BY 1, 2, 3`,
  largeObjects: `SELECT m.oid::text, pg_get_userbyid(m.lomowner) AS owner, m.lomacl::text AS acl,
                        md5(lo_get(m.oid)) AS md5 FROM pg_largeobject_metadata m ORDER BY 1`,
  comments: `SELECT obj_description('app.customers'::regclass, 'pg_class') AS t,
                    obj_description('"Weird Schema"."Mixed Case"'::regclass, 'pg_class') AS w`,
  sequences: `SELECT last_value::text FROM app.ticket_seq`,
};

async function facts(conn: PgConnection): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [k, sql] of Object.entries(FACTS_SQL)) out[k] = await query(conn, sql);
  return out;
}

beforeAll(async () => {
  source = await startLocalPostgres({ database: 'shop' });
  servers.push(source);
  src = withDatabase(source.connection, 'shop');
  const c = await connect(src);
  try {
    await c.query(TORTURE);
  } finally {
    await c.end();
  }
  const d = tempDir();
  cleanup.push(d);
  dir = d.path;
  const r = await runBackup(
    {
      connection: src,
      destinations: [await openStorage(dir)],
      prefix: 'shop',
      compression: 'auto',
      encryption: { mode: 'age', recipients: [keys.recipient] },
    },
    { logger: new MemoryLogger() },
  );
  manifest = r.manifest;
});

afterAll(async () => {
  for (const s of servers) await s.stop();
  for (const d of cleanup) d.remove();
});

function restoreConfig(target: PgConnection, over: Partial<RestoreConfig> = {}): RestoreConfig {
  return {
    storage: undefined as never,
    selection: {},
    keys: { identities: [keys.identity] },
    target,
    safetyBackup: false,
    force: false,
    dryRun: false,
    tables: [],
    schemas: [],
    minTables: 1,
    ...over,
  };
}

describe('fidelity: a torture schema (PostgreSQL 15, local engine)', () => {
  it('backs up the globals as a second object, listed in a manifest@2, never with a password', async () => {
    expect(manifest.format).toBe('lms-backup/manifest@2');
    expect(manifest.objects?.map((o) => o.role)).toEqual(['dump', 'globals']);
    const g = manifest.objects![1]!;
    expect(g.key).toBe(`db/${manifest.id}.globals.sql.age`);
    expect(readFileSync(join(dir, g.sidecarKey), 'utf8')).toContain(g.sha256);
    expect(manifest.globals?.roles).toEqual(
      expect.arrayContaining([
        'Torture Auditor',
        'postgres',
        'torture_app',
        'torture_owner',
        'torture_reader',
      ]),
    );
    expect(manifest.inventory.roles?.find((r) => r.name === 'torture_reader')?.uses).toEqual(
      expect.arrayContaining(['grantee', 'policy']),
    );
    expect(manifest.inventory.largeObjects).toMatchObject({ count: 2 });
    expect(manifest.inventory.partitioned?.[0]).toMatchObject({ schema: 'app', name: 'events', rows: 500 });
    expect(manifest.inventory.materializedViews).toEqual([
      { schema: 'app', name: 'mood_counts', populated: true, rows: 3 },
      { schema: 'app', name: 'never_refreshed', populated: false, rows: null },
    ]);
    expect(JSON.stringify(manifest)).not.toContain('not-in-any-backup');
    // The stored globals decrypt with the stock age CLI too: checked through verify's decryption.
  });

  it('verify passes, the globals included', async () => {
    const r = await runVerify(
      { storage: await openStorage(dir), selection: {}, keys: { identities: [keys.identity] } },
      { logger: new MemoryLogger() },
    );
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    expect(r.checks.map((c) => c.name)).toContain('globals object checksum and decryption');
  });

  it('a drill creates the roles, restores with owners and privileges, and every object matches', async () => {
    const { report, markdown } = await runDrill(
      {
        storage: await openStorage(dir),
        selection: {},
        keys: { identities: [keys.identity] },
        engine: 'local',
        minTables: 5,
        checks: [],
        rtoSeconds: 3600,
        rpoSeconds: 3600,
      },
      { logger: new MemoryLogger() },
    );
    expect(report.reasons).toEqual([]);
    expect(report.verdict).toBe('pass');
    expect(report.restore.owners).toBe(true);
    expect(report.rolesCreated).toEqual(
      expect.arrayContaining(['Torture Auditor', 'torture_app', 'torture_owner', 'torture_reader']),
    );
    expect(report.rolesCreated).not.toContain('postgres');
    const kinds = new Set(report.objects?.map((o) => o.kind));
    for (const k of [
      'owner',
      'privileges (ACL digest)',
      'policies',
      'row-level security',
      'materialized view',
      'sequence last value',
      'partitioned table rows',
      'large objects',
      'schema fingerprint',
    ]) {
      expect(kinds.has(k), k).toBe(true);
    }
    expect(report.objects?.every((o) => o.ok)).toBe(true);
    expect(report.objects?.find((o) => o.kind === 'owner' && o.object === 'app.customers')).toMatchObject({
      expected: 'torture_owner',
      found: 'torture_owner',
    });
    expect(markdown).toMatch(/### Owners, privileges, policies and other objects/);
  });
});
