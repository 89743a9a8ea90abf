import { describe, expect, it } from 'vitest';
import { checkManifest } from '../../src/catalog/read.js';
import type { Manifest } from '../../src/catalog/types.js';
import { resolveSelection } from '../../src/commands/selection.js';
import { type Globals, parseGlobalsSql, renderGlobalsSql } from '../../src/postgres/globals.js';
import { firstErrorOf, parseTocLine, summariseToc } from '../../src/postgres/restore.js';
import { makeManifest } from '../prune/fixtures.js';

function manifestWith(
  tables: [string, string][],
  partitioned: Manifest['inventory']['partitioned'] = [],
): Manifest {
  const m = makeManifest('lms_20240115_020000', new Date('2024-01-15T02:00:00Z'));
  m.inventory.tables = tables.map(([schema, name]) => ({ schema, name, rows: 1 }));
  m.inventory.partitioned = partitioned;
  return m;
}

describe('--table and --schema names', () => {
  const m = manifestWith(
    [
      ['Weird Schema', 'Mixed Case'],
      ['app', 'order'],
      ['app', 'users'],
      ['public', 'users'],
      ['app', 'events_2024'],
      ['x.y', 'dotted.name'],
    ],
    [{ schema: 'app', name: 'events', rows: 3, leaves: [{ schema: 'app', name: 'events_2024' }] }],
  );
  const one = (t: string) => resolveSelection(m, [t], []);

  it('reads quoted and unquoted spellings, mixed case and spaces alike', () => {
    const want = [{ schema: 'Weird Schema', name: 'Mixed Case' }];
    expect(one('"Weird Schema"."Mixed Case"')).toEqual(want);
    expect(one('Weird Schema.Mixed Case')).toEqual(want);
    expect(one('weird schema.mixed case')).toEqual(want);
    expect(one('"x.y"."dotted.name"')).toEqual([{ schema: 'x.y', name: 'dotted.name' }]);
    expect(one('app.order')).toEqual([{ schema: 'app', name: 'order' }]);
  });

  it('a partitioned parent means its leaves; a schema means its tables', () => {
    expect(one('app.events')).toEqual([{ schema: 'app', name: 'events_2024' }]);
    expect(resolveSelection(m, [], ['"Weird Schema"']).map((t) => t.name)).toEqual(['Mixed Case']);
  });

  it('unknown and ambiguous names are configuration errors naming the input', () => {
    expect(() => one('app.nope')).toThrow(/--table "app.nope" is not a table in backup lms_20240115_020000/);
    expect(() => one('users')).toThrow(/--table "users" is ambiguous: "app"."users", "public"."users"/);
    expect(() => resolveSelection(m, [], ['nope'])).toThrow(/--schema "nope" holds no table/);
    try {
      one('app.nope');
    } catch (e) {
      expect((e as { exitCode: number }).exitCode).toBe(2);
    }
  });
});

describe("pg_restore's table of contents", () => {
  it('takes kinds of several words and names with spaces apart', () => {
    const lines = [
      '3401; 0 16390 TABLE DATA Weird Schema Mixed Case torture_owner',
      '215; 1259 16390 TABLE Weird Schema Mixed Case torture_owner',
      '3402; 0 0 SEQUENCE SET app ticket_seq torture_owner',
      '3290; 2606 16400 FK CONSTRAINT app order order_customer_id_fkey torture_owner',
      '3291; 0 0 MATERIALIZED VIEW DATA app mood_counts torture_owner',
    ];
    expect(parseTocLine(lines[0]!)).toMatchObject({
      dumpId: 3401,
      kind: 'TABLE DATA',
      rest: 'Weird Schema Mixed Case torture_owner',
    });
    expect(summariseToc(lines)).toEqual({
      'TABLE DATA': 1,
      TABLE: 1,
      'SEQUENCE SET': 1,
      'FK CONSTRAINT': 1,
      'MATERIALIZED VIEW DATA': 1,
    });
  });

  it('the first error comes with the entry it stopped at', () => {
    const stderr = [
      'pg_restore: while PROCESSING TOC:',
      'pg_restore: from TOC entry 3401; 3256 16420 POLICY app secrets secrets_reader torture_owner',
      'pg_restore: error: could not execute query: ERROR:  role "torture_reader" does not exist',
      'Command was: CREATE POLICY secrets_reader ON app.secrets;',
    ].join('\n');
    expect(firstErrorOf(stderr)).toBe(
      'pg_restore: error: could not execute query: ERROR:  role "torture_reader" does not exist | ' +
        'pg_restore: from TOC entry 3401; 3256 16420 POLICY app secrets secrets_reader torture_owner | ' +
        'Command was: CREATE POLICY secrets_reader ON app.secrets;',
    );
  });
});

describe('globals and manifests', () => {
  it('a globals script reads back exactly, odd names and all', () => {
    const g: Globals = {
      roles: [
        {
          name: 'we"ird\nrole',
          superuser: false,
          inherit: true,
          createRole: false,
          createDb: true,
          login: true,
          replication: false,
          bypassRls: true,
          connectionLimit: 3,
          validUntil: null,
        },
      ],
      memberships: [{ role: 'a', member: 'we"ird\nrole', admin: true }],
      settings: [{ role: 'a', database: null, setting: "search_path=app, 'x'" }],
      tablespaces: [],
    };
    const sql = renderGlobalsSql(g, { database: 'db', takenAt: '2024-01-15T02:00:00Z' });
    expect(parseGlobalsSql(sql)).toEqual(g);
    expect(sql).toContain('CREATEDB LOGIN NOREPLICATION BYPASSRLS CONNECTION LIMIT 3');
    expect(sql).toContain('GRANT "a" TO "we""ird');
  });

  it('reads manifest@1 and manifest@2, and refuses a manifest@2 without its objects', () => {
    const v1 = makeManifest('lms_20240115_020000', new Date('2024-01-15T02:00:00Z'));
    expect(typeof checkManifest(v1)).toBe('object');
    const v2 = { ...v1, format: 'lms-backup/manifest@2' };
    expect(checkManifest(v2)).toBe('no "objects" list');
    const ok = {
      ...v2,
      objects: [
        { role: 'dump', key: v1.object.key, sha256: 'b', sidecarKey: v1.object.sidecarKey, bytes: 1 },
      ],
    };
    expect(typeof checkManifest(ok)).toBe('object');
    expect(checkManifest({ ...v1, format: 'lms-backup/manifest@3' })).toMatch(/unknown format/);
  });
});
