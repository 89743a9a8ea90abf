import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/catalog/types.js';
import { generateIdentity } from '../../src/crypto/age.js';
import { type HttpReceiver, startHttpReceiver } from '../helpers/http-receiver.js';
import { pgEnv, runCli, type SourceDb, startSourceDb, tempDir } from '../helpers/pg.js';

// The CLI wired to real receivers: run records, webhooks by severity, and the heartbeat.
let src: SourceDb;
let hooks: HttpReceiver;
const dir = tempDir();
const keys = generateIdentity();

beforeAll(async () => {
  [src, hooks] = await Promise.all([startSourceDb(1), startHttpReceiver()]);
});
afterAll(async () => {
  await Promise.allSettled([src?.stop(), hooks?.close()]);
  dir.remove();
});

const env = (extra: NodeJS.ProcessEnv = {}) => ({
  ...pgEnv(src.conn),
  LMS_BACKUP_WEBHOOK_URL: `${hooks.url}/hook`,
  LMS_BACKUP_SLACK_WEBHOOK_URL: `${hooks.url}/slack/T000/B000/secret-part`,
  LMS_BACKUP_HEARTBEAT_URL: `${hooks.url}/ping/abc`,
  ...extra,
});

const records = (dest: string) =>
  readdirSync(join(dest, 'runs')).map(
    (f) => JSON.parse(readFileSync(join(dest, 'runs', f), 'utf8')) as RunRecord,
  );

describe('alerts and run records from the CLI', () => {
  it('a successful backup pings the heartbeat, stays quiet below warning, and leaves a success record', async () => {
    const dest = join(dir.path, 'ok');
    const r = await runCli(['backup', '--to', dest, '--recipient', keys.recipient], env());
    expect(r.code, r.stderr).toBe(0);
    expect(hooks.on('/ping/abc')).toHaveLength(1);
    expect(hooks.on('/hook')).toHaveLength(0); // info is below the default minimum severity
    const [rec] = records(dest);
    expect(rec).toMatchObject({ command: 'backup', status: 'success', format: 'lms-backup/run@1' });
    expect(rec!.bytes).toBeGreaterThan(0);
    expect(r.stderr).not.toContain('secret-part');
  });

  it('a failed backup pings /fail, sends a critical alert to every webhook, and leaves a failure record', async () => {
    const dest = join(dir.path, 'fail');
    const r = await runCli(
      ['backup', '--to', dest, '--recipient', keys.recipient],
      env({ PGPASSWORD: 'wrong' }),
    );
    expect(r.code).toBe(2);
    expect(hooks.on('/ping/abc/fail')).toHaveLength(1);
    const hook = hooks.on('/hook');
    expect(hook).toHaveLength(1);
    const event = JSON.parse(hook[0]!.body) as { severity: string; status: string; text: string };
    expect(event.severity).toBe('critical');
    expect(event.status).toBe('failure');
    expect(event.text).toMatch(/authentication failed/);
    expect(hooks.on('/slack/T000/B000/secret-part')).toHaveLength(1);
    const [rec] = records(dest);
    expect(rec).toMatchObject({ command: 'backup', status: 'failure' });
    expect(rec!.reason).toMatch(/authentication failed/);
    expect(JSON.stringify(rec)).not.toContain('wrong');
  });

  it('a webhook that fails does not fail the backup', async () => {
    hooks.script('/hook', { status: 500 }, { status: 500 }, { status: 500 });
    const dest = join(dir.path, 'hook-down');
    const r = await runCli(
      ['backup', '--to', dest, '--recipient', keys.recipient, '--notify-min-severity', 'info'],
      env(),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/could not notify/);
    expect(records(dest)[0]?.status).toBe('success');
  });
});
