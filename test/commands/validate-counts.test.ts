/**
 * The drill's row counts spread over several connections (validateRestored's `counters`), on a
 * real server: every table counted exactly once, on every connection, the largest first; a
 * connection that fails fails the validation instead of hanging it.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPostgres } from '../../src/engines/local.js';
import type { ThrowawayPostgres } from '../../src/engines/types.js';
import { connect, connectMany, withConnections } from '../../src/postgres/client.js';
import { withDatabase } from '../../src/postgres/connection.js';
import { takeInventory } from '../../src/postgres/inventory.js';
import { validateRestored } from '../../src/postgres/validate.js';

let server: ThrowawayPostgres;
const conn = () => withDatabase(server.connection, 'counts');

beforeAll(async () => {
  server = await startLocalPostgres({ database: 'counts' });
  const c = await connect(conn());
  try {
    await c.query(`
      CREATE TABLE big AS SELECT g AS id FROM generate_series(1, 30000) g;
      CREATE TABLE mid AS SELECT g AS id FROM generate_series(1, 300) g;
      CREATE TABLE "Odd ""name""" AS SELECT g AS id FROM generate_series(1, 7) g;
      CREATE TABLE gone AS SELECT 1 AS id;
      CREATE TABLE small AS SELECT g AS id FROM generate_series(1, 3) g;
      CREATE SCHEMA "a.b"; CREATE TABLE "a.b".c AS SELECT g AS id FROM generate_series(1, 2) g;
      CREATE SCHEMA a; CREATE TABLE a."b.c" AS SELECT g AS id FROM generate_series(1, 4) g;`);
  } finally {
    await c.end();
  }
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

/** The count queries each client ran, in order. */
function spy(clients: pg.Client[]): string[][] {
  return clients.map((c) => {
    const seen: string[] = [];
    const query = c.query.bind(c) as (...a: unknown[]) => unknown;
    (c as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
      const m = typeof a[0] === 'string' ? /^SELECT count\(\*\) AS n FROM (.+)$/.exec(a[0]) : null;
      if (m) seen.push(m[1]!);
      return query(...a);
    };
    return seen;
  });
}

describe('row counts on several connections', () => {
  it('counts every table exactly once, spread over every connection, the largest first', async () => {
    const clients = await connectMany(conn(), 3);
    try {
      const inventory = await takeInventory(clients[0]!);
      // The restore lost a table, one count differs from the manifest, one table is not in it.
      await clients[0]!.query(
        'DROP TABLE gone, "a.b".c; INSERT INTO mid VALUES (301); CREATE TABLE extra AS SELECT 1 AS id',
      );
      const seen = spy(clients);
      const v = await validateRestored(clients[0]!, inventory, {
        minTables: 1,
        checks: [],
        counters: clients.slice(1),
      });
      const found = Object.fromEntries(
        v.tables.map((t) => [`${t.schema} | ${t.name}`, [t.expected, t.found, t.ok]]),
      );
      expect(found).toEqual({
        'public | big': [30000, 30000, true],
        'public | mid': [300, 301, false],
        'public | Odd "name"': [7, 7, true],
        'public | gone': [1, null, false],
        'public | small': [3, 3, true],
        // "a.b".c and a."b.c" are both named a.b.c: only the one that is left is counted.
        'a.b | c': [2, null, false],
        'a | b.c': [4, 4, true],
        'public | extra': [null, 1, true],
      });
      // Each table present was counted once, and no connection sat idle.
      expect(seen.flat().sort()).toEqual(
        [
          '"public"."big"',
          '"public"."mid"',
          '"public"."Odd ""name"""',
          '"public"."small"',
          '"a"."b.c"',
          '"public"."extra"',
        ].sort(),
      );
      for (const s of seen) expect(s.length).toBeGreaterThan(0);
      expect(seen[0]![0]).toBe('"public"."big"');
      expect(v.reasons).toEqual(
        expect.arrayContaining([
          '2 table(s) missing after restore: a.b.c, public.gone',
          'row count of public.mid is 301, the manifest says 300',
        ]),
      );
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });

  it('fails, and does not hang, when a counting connection is lost', async () => {
    const clients = await connectMany(conn(), 2);
    try {
      const inventory = await takeInventory(clients[0]!);
      await clients[1]!.end();
      await expect(
        validateRestored(clients[0]!, inventory, { minTables: 1, checks: [], counters: [clients[1]!] }),
      ).rejects.toThrow();
    } finally {
      await clients[0]!.end();
    }
  });

  it('connectMany throws the connection error and leaves no client open', async () => {
    const bad = { ...conn(), password: 'not-the-password' };
    await expect(connectMany(bad, 3)).rejects.toThrow(/password|authentication/i);
    expect(await otherSessions(0)).toBe(0);
  });

  it('withConnections gives at least one client, and closes them all when its work throws', async () => {
    const none = await withConnections(conn(), 0, async (first, rest) => {
      expect((await first.query('SELECT 1 AS one')).rows[0].one).toBe(1);
      return rest.length;
    });
    expect(none).toBe(0);
    await expect(
      withConnections(conn(), 3, async (_first, rest) => {
        expect(rest).toHaveLength(2);
        expect(await otherSessions()).toBe(3);
        throw new Error('the validation broke');
      }),
    ).rejects.toThrow('the validation broke');
    expect(await otherSessions(0)).toBe(0);
  });
});

/**
 * Sessions of this program on the server, other than the one asking. A closed session's backend
 * leaves pg_stat_activity a moment after the client is told: `settleTo` waits up to 5 s for it.
 */
async function otherSessions(settleTo?: number): Promise<number> {
  const c = await connect(conn());
  try {
    for (let waited = 0; ; waited += 50) {
      const r = await c.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'lms-backup' AND pid <> pg_backend_pid()",
      );
      const n = Number(r.rows[0]!.n);
      if (settleTo === undefined || n === settleTo || waited >= 5000) return n;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await c.end();
  }
}
