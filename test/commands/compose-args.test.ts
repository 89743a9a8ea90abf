/**
 * Compose mode's pure parts: the argv for compose v1 and v2 (only v1 is installed here, so v2's
 * argv is checked as data; v1 runs for real in compose.test.ts), the choice of the service, the
 * sidecar's arguments, and which credentials win.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBackupInputs } from '../../src/action/inputs.js';
import { actionLogger } from '../../src/action/logger.js';
import { Secrets } from '../../src/action/secrets.js';
import { ConfigError } from '../../src/errors.js';
import {
  COMPOSE_V1,
  COMPOSE_V2,
  composeGlobalArgs,
  composeRequestConnection,
  detectComposeCli,
  postgresServices,
  sidecarArgs,
} from '../../src/postgres/compose.js';
import { describeConnection } from '../../src/postgres/connection.js';
import { FakeIO } from '../action/fake-io.js';

const project = {
  files: ['/srv/shop/compose.yml', '/srv/shop/compose.prod.yml'],
  project: 'shop',
  profiles: ['db'],
};

describe('compose argv', () => {
  it('v2 is "docker compose" with the files, project and profiles before the subcommand', () => {
    expect([
      COMPOSE_V2.command,
      ...composeGlobalArgs({ cli: COMPOSE_V2, ...project }),
      'ps',
      '-q',
      'db',
    ]).toEqual([
      'docker',
      'compose',
      '-f',
      '/srv/shop/compose.yml',
      '-f',
      '/srv/shop/compose.prod.yml',
      '-p',
      'shop',
      '--profile',
      'db',
      'ps',
      '-q',
      'db',
    ]);
  });

  it('v1 is "docker-compose" with the same arguments', () => {
    expect([COMPOSE_V1.command, ...composeGlobalArgs({ cli: COMPOSE_V1, ...project })]).toEqual([
      'docker-compose',
      '-f',
      '/srv/shop/compose.yml',
      '-f',
      '/srv/shop/compose.prod.yml',
      '-p',
      'shop',
      '--profile',
      'db',
    ]);
  });

  it('finds the compose of this machine (v1 here), and says so when a forced one is missing', async () => {
    expect(await detectComposeCli({ ...process.env, LMS_COMPOSE_CLI: '' })).toEqual(COMPOSE_V1);
    const forced = detectComposeCli({ ...process.env, LMS_COMPOSE_CLI: 'v2' });
    await expect(forced).rejects.toBeInstanceOf(ConfigError);
    await expect(forced).rejects.toThrow(
      /compose mode needs docker compose, and none runs here \(docker compose: /,
    );
  });

  it('a sidecar joins the service container network, keeps no log and gets PG* variables by name only', () => {
    expect(sidecarArgs({ container: 'abc123' }, 'lms-backup-x', ['PGUSER', 'PGPASSWORD'])).toEqual([
      'run',
      '--rm',
      '--name',
      'lms-backup-x',
      '--label',
      'lms-backup.throwaway=true',
      '--label',
      expect.stringMatching(/^lms-backup\.run-id=/),
      '--log-driver',
      'none',
      '-i',
      '--network',
      'container:abc123',
      '-e',
      'PGPASSWORD',
      '-e',
      'PGUSER',
    ]);
  });
});

describe('the default service', () => {
  it('is the one running a PostgreSQL image, not the same image run as something else', () => {
    const services = [
      { name: 'web', image: 'node:20' },
      { name: 'db', image: 'postgres:17' },
      { name: 'psql-shell', image: 'postgres:17', entrypoint: ['sleep', 'infinity'] },
      { name: 'cache', image: 'redis:7' },
    ];
    expect(postgresServices(services).map((s) => s.name)).toEqual(['db']);
  });

  it('recognises postgis, timescaledb and registry paths; skips services of inactive profiles', () => {
    const services = [
      { name: 'geo', image: 'registry.example.com/postgis/postgis:16-3.4' },
      { name: 'ts', image: 'timescale/timescaledb:latest-pg16', profiles: ['metrics'] },
    ];
    expect(postgresServices(services).map((s) => s.name)).toEqual(['geo']);
    expect(postgresServices(services, ['metrics']).map((s) => s.name)).toEqual(['geo', 'ts']);
  });
});

describe('credentials in compose mode', () => {
  const options = { files: [], profiles: [], service: 'db' };

  it('keeps only what was given: the URL first, then PGUSER/PGDATABASE/PGPASSWORD; PGHOST is the host view, unused', () => {
    const conn = composeRequestConnection(
      options,
      'postgresql://backup@ignored-host/shop',
      { PGHOST: 'db.example.com', PGUSER: 'other', PGPASSWORD: 'pw-from-env' },
      '--database-url',
    );
    expect(conn.compose?.given).toEqual({
      user: 'backup',
      host: 'ignored-host',
      database: 'shop',
      password: 'pw-from-env',
    });
    const bare = composeRequestConnection(options, undefined, { PGHOST: 'db.example.com' }, '--database-url');
    expect(bare.compose?.given).toEqual({});
  });

  it('describes a compose connection by project and service, never a password', () => {
    const text = describeConnection({
      host: '127.0.0.1',
      port: 5432,
      user: 'shop',
      database: 'shop',
      password: 'hunter2',
      via: {
        cli: COMPOSE_V1,
        files: [],
        profiles: [],
        project: 'shop',
        service: 'db',
        container: 'c',
        image: 'i',
      },
    });
    expect(text).toBe('compose://shop/db/shop (user shop)');
  });
});

describe('compose inputs through the one spec', () => {
  it('the action backup step takes compose-file (lines) with no database-url and resolves nothing before the run', async () => {
    const dest = mkdtempSync(join(tmpdir(), 'lms-compose-inputs-'));
    try {
      const io = new FakeIO({
        'compose-file': 'deploy/compose.yml\ndeploy/compose.prod.yml',
        'compose-profile': 'db',
        destinations: dest,
        encryption: 'false',
      });
      const secrets = new Secrets(io);
      const s = await parseBackupInputs({ io, secrets, logger: actionLogger(io, secrets), env: {} });
      expect(s.config.connection.compose).toMatchObject({
        files: [resolve('deploy/compose.yml'), resolve('deploy/compose.prod.yml')],
        profiles: ['db'],
        given: {},
      });
      expect(s.config.connection.via).toBeUndefined();
    } finally {
      rmSync(dest, { recursive: true, force: true });
    }
  });

  it('without compose inputs the action still requires a database', async () => {
    const io = new FakeIO({ destinations: tmpdir(), encryption: 'false' });
    const secrets = new Secrets(io);
    await expect(
      parseBackupInputs({ io, secrets, logger: actionLogger(io, secrets), env: {} }),
    ).rejects.toThrow(/database-url is required/);
  });
});
