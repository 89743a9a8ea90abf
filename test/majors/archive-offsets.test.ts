/**
 * The data offsets a drill or restore writes into a custom-format archive pg_dump wrote into a
 * pipe (src/postgres/archive-offsets.ts), checked against pg_dump itself: the same database
 * dumped into a pipe and into a file, by pg_dump 15 (this host) and 17 and 18 (the local
 * images), and the piped archive with its offsets written must be byte for byte the file
 * archive, but for the creation time in the header. Then pg_restore -j2 restores it, and files
 * it does not read are left exactly as they were.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPostgres } from '../../src/engines/local.js';
import type { ThrowawayPostgres } from '../../src/engines/types.js';
import { writeDataOffsets } from '../../src/postgres/archive-offsets.js';
import { connect } from '../../src/postgres/client.js';
import { withDatabase } from '../../src/postgres/connection.js';
import { dockerTestMode } from '../helpers/docker.js';
import { pgEnv, tempDir } from '../helpers/pg.js';

let pg: ThrowawayPostgres;
const work = tempDir('lms-offsets-');
const docker = (await dockerTestMode('lms-backup/postgres:17')) === 'run';

beforeAll(async () => {
  pg = await startLocalPostgres({ database: 'src' });
  const c = await connect(withDatabase(pg.connection, 'src'));
  try {
    await c.query(`
      CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL);
      INSERT INTO users SELECT g, 'u' || g || '@example.org' FROM generate_series(1, 50000) g;
      CREATE TABLE "Odd name; with ""quotes""" (v text);
      INSERT INTO "Odd name; with ""quotes""" VALUES ('a'), ('b');
      CREATE TABLE empty_table (x int);
      CREATE TABLE measurements (at date NOT NULL, v int) PARTITION BY RANGE (at);
      CREATE TABLE measurements_2026 PARTITION OF measurements FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
      INSERT INTO measurements SELECT date '2026-01-01' + (g % 300), g FROM generate_series(1, 20000) g;
      -- A row of 12 MB in COPY text: one chunk three times the reader's window.
      CREATE TABLE blobs (id int, b bytea);
      INSERT INTO blobs SELECT 1, decode(repeat(md5('x'), 200000), 'hex') || decode(repeat(md5('y'), 200000), 'hex');
      INSERT INTO blobs SELECT g, decode(md5(g::text), 'hex') FROM generate_series(2, 1000) g;
      -- Large objects: their own kind of data block (an oid, then chunks, per object).
      SELECT lo_from_bytea(0, decode(repeat('ab', 3000000), 'hex'));
      SELECT lo_from_bytea(0, 'small');
    `);
  } finally {
    await c.end();
  }
}, 180_000);
afterAll(async () => {
  await pg?.stop();
  work.remove();
});

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      err += d;
    });
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${cmd} exited ${code}: ${err}`)),
    );
  });
}

/** The archive pg_dump writes into a pipe, and the one it writes into a file (then cat). */
async function dumps(major: number): Promise<{ piped: Buffer; seekable: Buffer }> {
  const env = { ...process.env, ...pgEnv(withDatabase(pg.connection, 'src')) };
  if (major === 15) {
    const file = join(work.path, 'seekable-15');
    await run('pg_dump', ['-Fc', '-Z0', '-f', file], env);
    return { piped: await run('pg_dump', ['-Fc', '-Z0'], env), seekable: readFileSync(file) };
  }
  const inImage = (script: string) =>
    run(
      'docker',
      [
        'run',
        '--rm',
        '--network',
        'host',
        ...['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE'].flatMap((k) => ['-e', k]),
        '--entrypoint',
        'sh',
        `lms-backup/postgres:${major}`,
        '-c',
        script,
      ],
      env,
    );
  return {
    piped: await inImage('pg_dump -Fc -Z0 | cat'),
    seekable: await inImage('pg_dump -Fc -Z0 -f /tmp/a && cat /tmp/a'),
  };
}

/** Where the seven ints of the creation time sit: after the compression byte (1.15+) or int. */
function creationTime(archive: Buffer): [number, number] {
  const minor = archive[6]!;
  const start = 5 + 3 + 3 + (minor >= 15 ? 1 : 5);
  return [start, start + 7 * 5];
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('data offsets in an archive pg_dump wrote into a pipe', () => {
  for (const major of [15, 17, 18]) {
    it.runIf(major === 15 || docker)(
      `pg_dump ${major}: written exactly as pg_dump writes them into a file`,
      async () => {
        const { piped, seekable } = await dumps(major);
        expect(piped.length).toBe(seekable.length);
        const [from, to] = creationTime(piped);
        // The two differ in their offsets (and perhaps the creation time) before ...
        expect(piped.subarray(to).equals(seekable.subarray(to))).toBe(false);
        const file = join(work.path, `piped-${major}`);
        writeFileSync(file, piped);
        const r = await writeDataOffsets(file);
        // users, the odd name, empty_table, the partition, blobs; the large objects' two blocks
        // (pg_dump 17 and later give each batch of large objects an entry of its own).
        expect(r).toMatchObject({ written: true });
        if (!r.written) return;
        expect(r.set).toBe(r.entries);
        expect(r.set).toBeGreaterThanOrEqual(6);
        const patched = readFileSync(file);
        // ... and are the same file after.
        expect(patched.subarray(0, from).equals(seekable.subarray(0, from))).toBe(true);
        expect(patched.subarray(to).equals(seekable.subarray(to))).toBe(true);
        // A file that already has its offsets is left as it is.
        const again = sha(patched);
        expect(await writeDataOffsets(file)).toEqual({ written: true, entries: r.entries, set: 0 });
        expect(sha(readFileSync(file))).toBe(again);
      },
    );
  }

  it('pg_restore -j2 restores the archive with its offsets written, every row', async () => {
    const env = { ...process.env, ...pgEnv(withDatabase(pg.connection, 'src')) };
    const file = join(work.path, 'restore-me');
    writeFileSync(file, await run('pg_dump', ['-Fc', '-Z0'], env));
    expect(await writeDataOffsets(file)).toMatchObject({ written: true });
    await run('createdb', ['copy'], env);
    await run('pg_restore', ['-j2', '-d', 'copy', file], env);
    const c = await connect(withDatabase(pg.connection, 'copy'));
    try {
      const r = await c.query<{ u: string; m: string; b: string; lo: string; big: string }>(`
        SELECT (SELECT count(*) FROM users) AS u, (SELECT count(*) FROM measurements) AS m,
               (SELECT count(*) FROM blobs) AS b, (SELECT count(*) FROM pg_largeobject_metadata) AS lo,
               (SELECT length(b) FROM blobs WHERE id = 1) AS big`);
      expect(r.rows[0]).toEqual({ u: '50000', m: '20000', b: '1000', lo: '2', big: 6400000 });
    } finally {
      await c.end();
    }
  });

  it('leaves alone, unchanged and with the reason, what it does not read', async () => {
    const env = { ...process.env, ...pgEnv(withDatabase(pg.connection, 'src')) };
    const archive = await run('pg_dump', ['-Fc', '-Z0'], env);
    const emptyTable = await run('pg_dump', ['-Fc', '-Z0', '-t', 'empty_table'], env);
    const cases: [string, Buffer, RegExp][] = [
      ['plain SQL', await run('pg_dump', ['-Fp', '-t', 'users'], env), /not a pg_dump archive/],
      ['a tar archive', await run('pg_dump', ['-Ft', '-t', 'users'], env), /not a pg_dump archive/],
      ['a truncated archive', archive.subarray(0, archive.length - 1000), /ends inside/],
      ['an archive cut inside its TOC', archive.subarray(0, 300), /ends inside/],
      ['an empty file', Buffer.alloc(0), /too short/],
      [
        'an archive of an unknown version',
        Buffer.concat([archive.subarray(0, 6), Buffer.from([99]), archive.subarray(7)]),
        /version 1\.99\.\d+ is outside/,
      ],
      [
        'a data block with a foreign dump id',
        // One empty table: the archive ends with its only data block: type 1, a sign byte,
        // the 4-byte dump id, one chunk (length 5: the COPY end marker) and the zero length
        // that ends the block (21 bytes). Its id, changed.
        (() => {
          const copy = Buffer.from(emptyTable);
          expect(copy.subarray(-21, -19)).toEqual(Buffer.from([1, 0]));
          copy.writeUInt32LE(60000, copy.length - 19);
          return copy;
        })(),
        /data block at offset \d+ belongs to no entry waiting for one \(id 60000\)/,
      ],
    ];
    for (const [what, bytes, reason] of cases) {
      const file = join(work.path, `bad-${what.replace(/\W+/g, '-')}`);
      writeFileSync(file, bytes);
      const r = await writeDataOffsets(file);
      expect(r, what).toMatchObject({ written: false, reason: expect.stringMatching(reason) });
      expect(sha(readFileSync(file)), what).toBe(sha(bytes));
    }
  });
});
