/**
 * Sequences live outside every snapshot: the manifest records their values just before pg_dump
 * starts, pg_dump reads them a moment later. A drill accepts a restored sequence at or past the
 * recorded value (a database in use moved on), and fails one that is behind (its setval was
 * lost, or the dump is older than the manifest says).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Inventory } from '../../src/catalog/types.js';
import { startLocalPostgres } from '../../src/engines/local.js';
import type { ThrowawayPostgres } from '../../src/engines/types.js';
import { connect, type PgClient } from '../../src/postgres/client.js';
import { listSequences } from '../../src/postgres/inventory.js';
import { compareObjects, objectReasons } from '../../src/postgres/validate.js';

let pg: ThrowawayPostgres;
let client: PgClient;
beforeAll(async () => {
  pg = await startLocalPostgres({});
  client = await connect(pg.connection);
  await client.query('CREATE SEQUENCE app_seq; SELECT setval($$app_seq$$, 1000)');
}, 120_000);
afterAll(async () => {
  await client?.end();
  await pg?.stop();
});

async function checkAgainst(lastValue: string) {
  const inventory: Inventory = {
    tables: [],
    extensions: [],
    schemaFingerprint: '',
    tableCount: 0,
    totalRows: 0,
    sequences: [{ schema: 'public', name: 'app_seq', lastValue, isCalled: true }],
  };
  const checks = (await compareObjects(client, inventory, { owners: false, privileges: false })).filter(
    (c) => c.kind === 'sequence last value',
  );
  return { check: checks[0]!, reasons: objectReasons(checks) };
}

describe('sequence values in a drill', () => {
  it('the same value, and one further along, pass', async () => {
    expect((await listSequences(client)).find((s) => s.name === 'app_seq')?.lastValue).toBe('1000');
    expect((await checkAgainst('1000')).check).toMatchObject({ ok: true, found: '1000' });
    const moved = await checkAgainst('994');
    expect(moved.check).toMatchObject({ ok: true, expected: '994 or later', found: '1000' });
    expect(moved.reasons).toEqual([]);
  });

  it('a restored sequence behind the manifest fails, with both values', async () => {
    const r = await checkAgainst('1006');
    expect(r.check.ok).toBe(false);
    expect(r.reasons.join('\n')).toMatch(
      /sequence last value of public\.app_seq is "1000", the manifest says "1006 or later"/,
    );
  });
});
