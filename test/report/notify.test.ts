import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { MemoryLogger } from '../../src/log.js';
import {
  eventFromRun,
  heartbeatUrl,
  type NotificationEvent,
  type NotifierConfig,
  notifyAll,
  validateNotifier,
} from '../../src/report/notify.js';
import { type HttpReceiver, startHttpReceiver } from '../helpers/http-receiver.js';
import { makeRun } from './fixtures.js';

const SECRET = 'T000/B000/XXXXsecretXXXX';

const failure: NotificationEvent = {
  severity: 'critical',
  title: 'Backup failed: lms_20240115_020000',
  text: 'pg_dump exited with code 1: connection refused <db.example:5432> & retried',
  fields: { Database: 'lms', Destination: 'local:/backups', Duration: '3 s' },
  command: 'backup',
  backupId: 'lms_20240115_020000',
  status: 'failure',
  timestamp: '2024-01-15T02:00:03.000Z',
  link: 'https://github.com/org/repo/actions/runs/1',
};
const success: NotificationEvent = {
  ...failure,
  severity: 'info',
  title: 'Backup succeeded',
  status: 'success',
};
const warning: NotificationEvent = {
  ...success,
  severity: 'warning',
  title: 'Backup succeeded with warnings',
};

// Fast retries for tests; the defaults (1 s, doubling) are exercised by the timing bound below.
const fast = { backoffMs: 20, timeoutMs: 2000 };

let rx: HttpReceiver;
beforeEach(async () => {
  rx = await startHttpReceiver();
});
afterEach(async () => {
  await rx.close();
});

describe('payloads', () => {
  it('Slack gets Block Kit with a fallback text, escaped, all fields', async () => {
    const results = await notifyAll([{ kind: 'slack', url: `${rx.url}/services/${SECRET}` }], failure, fast);
    expect(results).toEqual([{ name: 'slack', kind: 'slack', ok: true, attempts: 1, status: 200 }]);
    const [req] = rx.on(`/services/${SECRET}`);
    expect(req!.method).toBe('POST');
    expect(req!.headers['content-type']).toBe('application/json');
    const body = JSON.parse(req!.body);
    expect(body.text).toContain('Backup failed: lms_20240115_020000');
    expect(body.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: '🔴 Backup failed: lms_20240115_020000', emoji: true },
    });
    expect(body.blocks[1].text.text).toBe(
      'pg_dump exited with code 1: connection refused &lt;db.example:5432&gt; &amp; retried',
    );
    expect(body.blocks[2].fields).toEqual([
      { type: 'mrkdwn', text: '*Database*\nlms' },
      { type: 'mrkdwn', text: '*Destination*\nlocal:/backups' },
      { type: 'mrkdwn', text: '*Duration*\n3 s' },
    ]);
    expect(body.blocks.at(-1).type).toBe('context');
    expect(body.blocks.at(-1).elements[0].text).toContain(
      '<https://github.com/org/repo/actions/runs/1|open the run>',
    );
  });

  it('Slack splits more than 10 fields into several sections', async () => {
    const fields = Object.fromEntries(Array.from({ length: 13 }, (_, i) => [`f${i}`, String(i)]));
    await notifyAll([{ kind: 'slack', url: `${rx.url}/s` }], { ...failure, fields }, fast);
    const body = JSON.parse(rx.on('/s')[0]!.body);
    const sections = body.blocks.filter((b: { fields?: unknown[] }) => b.fields);
    expect(sections.map((s: { fields: unknown[] }) => s.fields.length)).toEqual([10, 3]);
  });

  it('Teams gets an Adaptive Card in a message attachment', async () => {
    await notifyAll([{ kind: 'teams', url: `${rx.url}/workflows/${SECRET}` }], failure, fast);
    const body = JSON.parse(rx.on(`/workflows/${SECRET}`)[0]!.body);
    expect(body.type).toBe('message');
    expect(body.attachments).toHaveLength(1);
    const att = body.attachments[0];
    expect(att.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(att.content.type).toBe('AdaptiveCard');
    expect(att.content.version).toBe('1.4');
    expect(att.content.$schema).toBe('http://adaptivecards.io/schemas/adaptive-card.json');
    expect(att.content.body[0]).toMatchObject({ type: 'TextBlock', color: 'Attention', wrap: true });
    expect(att.content.body[0].text).toContain('Backup failed');
    const factSet = att.content.body.find((b: { type: string }) => b.type === 'FactSet');
    expect(factSet.facts).toContainEqual({ title: 'Database', value: 'lms' });
    expect(att.content.actions).toEqual([
      { type: 'Action.OpenUrl', title: 'Open the run', url: 'https://github.com/org/repo/actions/runs/1' },
    ]);
  });

  it('the generic webhook gets the versioned event, with custom headers', async () => {
    await notifyAll(
      [{ kind: 'webhook', url: `${rx.url}/hook`, headers: { authorization: 'Bearer abc' } }],
      failure,
      fast,
    );
    const req = rx.on('/hook')[0]!;
    expect(req.headers.authorization).toBe('Bearer abc');
    expect(JSON.parse(req.body)).toEqual({ format: 'lms-backup/event@1', ...failure });
  });
});

describe('severity filtering', () => {
  it('each webhook has a minimum severity (default warning); the heartbeat is always pinged', async () => {
    const notifiers: NotifierConfig[] = [
      { kind: 'slack', url: `${rx.url}/slack`, minSeverity: 'critical' },
      { kind: 'teams', url: `${rx.url}/teams` },
      { kind: 'webhook', url: `${rx.url}/hook`, minSeverity: 'info' },
      { kind: 'heartbeat', url: `${rx.url}/ping/uuid` },
    ];
    const info = await notifyAll(notifiers, success, fast);
    expect(info.map((r) => [r.name, r.ok, r.skipped ?? false, r.attempts])).toEqual([
      ['slack', true, true, 0],
      ['teams', true, true, 0],
      ['webhook', true, false, 1],
      ['heartbeat', true, false, 1],
    ]);
    const warn = await notifyAll(notifiers, warning, fast);
    expect(warn.map((r) => r.skipped ?? false)).toEqual([true, false, false, false]);
    const crit = await notifyAll(notifiers, failure, fast);
    expect(crit.map((r) => r.skipped ?? false)).toEqual([false, false, false, false]);
    expect(rx.on('/slack')).toHaveLength(1);
    expect(rx.on('/teams')).toHaveLength(2);
    expect(rx.on('/hook')).toHaveLength(3);
    expect(rx.on('/ping/uuid')).toHaveLength(2);
    expect(rx.on('/ping/uuid/fail')).toHaveLength(1);
  });
});

describe('heartbeat', () => {
  it('success pings the URL, failure pings <url>/fail; POST with a text body by default', async () => {
    const hb: NotifierConfig = { kind: 'heartbeat', url: `${rx.url}/ping/abc-123` };
    await notifyAll([hb], success, fast);
    await notifyAll([hb], failure, fast);
    expect(rx.requests.map((r) => [r.method, r.path])).toEqual([
      ['POST', '/ping/abc-123'],
      ['POST', '/ping/abc-123/fail'],
    ]);
    expect(rx.requests[1]!.body).toContain('Backup failed');
  });

  it('GET when configured, no body', async () => {
    await notifyAll([{ kind: 'heartbeat', url: `${rx.url}/ping/abc/`, method: 'GET' }], failure, fast);
    expect(rx.requests.map((r) => [r.method, r.path, r.body])).toEqual([['GET', '/ping/abc/fail', '']]);
  });

  it('keeps the query string when adding /fail', () => {
    expect(heartbeatUrl('https://hc-ping.com/uuid?rid=1', 'failure')).toBe(
      'https://hc-ping.com/uuid/fail?rid=1',
    );
    expect(heartbeatUrl('https://hc-ping.com/uuid', 'success')).toBe('https://hc-ping.com/uuid');
  });
});

describe('retries, timeouts and failures', () => {
  it('retries after 500s and succeeds', async () => {
    rx.script('/s', { status: 500, body: 'oops' }, { status: 502 });
    const [r] = await notifyAll([{ kind: 'slack', url: `${rx.url}/s` }], failure, fast);
    expect(r).toMatchObject({ ok: true, attempts: 3, status: 200 });
    expect(rx.on('/s')).toHaveLength(3);
  });

  it('honours Retry-After on 429 (capped by maxBackoffMs)', async () => {
    rx.script('/s', { status: 429, headers: { 'retry-after': '0.3' } });
    const started = Date.now();
    const [r] = await notifyAll([{ kind: 'slack', url: `${rx.url}/s` }], failure, fast);
    expect(r).toMatchObject({ ok: true, attempts: 2 });
    const [first, second] = rx.on('/s');
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('gives up after the attempts, reports the last status, and never throws', async () => {
    rx.setDefault({ status: 503, body: 'unavailable' });
    const logger = new MemoryLogger();
    const [r] = await notifyAll([{ kind: 'teams', url: `${rx.url}/t/${SECRET}` }], failure, {
      ...fast,
      logger,
    });
    expect(r).toMatchObject({ ok: false, attempts: 3, status: 503, error: 'HTTP 503: unavailable' });
    expect(rx.requests).toHaveLength(3);
    expect(logger.text()).toContain('could not notify teams');
  });

  it('does not retry a 4xx that retrying cannot fix', async () => {
    rx.script('/s', { status: 404, body: 'no_service' });
    const [r] = await notifyAll([{ kind: 'slack', url: `${rx.url}/s` }], failure, fast);
    expect(r).toMatchObject({ ok: false, attempts: 1, status: 404, error: 'HTTP 404: no_service' });
  });

  it('a server that never answers: bounded time, ok false, others unaffected', async () => {
    rx.script('/hang', 'hang', 'hang', 'hang');
    const started = Date.now();
    const results = await notifyAll(
      [
        { kind: 'webhook', url: `${rx.url}/hang` },
        { kind: 'slack', url: `${rx.url}/fine` },
      ],
      failure,
      { timeoutMs: 300, attempts: 2, backoffMs: 50 },
    );
    const elapsed = Date.now() - started;
    expect(results[0]).toMatchObject({ name: 'webhook', ok: false, attempts: 2 });
    expect(results[0]!.error).toMatch(/no answer within/);
    expect(results[1]).toMatchObject({ name: 'slack', ok: true, attempts: 1 });
    // 2 × 300 ms + 50 ms backoff, with slack for a busy machine.
    expect(elapsed).toBeGreaterThanOrEqual(600);
    expect(elapsed).toBeLessThan(3000);
  });

  it('a refused connection is a network error: retried, then reported', async () => {
    const closed = await startHttpReceiver();
    const url = `${closed.url}/services/${SECRET}`;
    await closed.close();
    const logger = new MemoryLogger();
    const [r] = await notifyAll([{ kind: 'slack', url }], failure, { ...fast, logger, attempts: 2 });
    expect(r).toMatchObject({ ok: false, attempts: 2 });
    expect(r!.error).toMatch(/fetch failed|ECONNREFUSED/);
    expect(r!.error).not.toContain(SECRET);
    expect(logger.text()).not.toContain(SECRET);
  });

  it('an invalid URL becomes a failed result, not a throw', async () => {
    const [r] = await notifyAll([{ kind: 'heartbeat', url: 'not a url' }], failure, fast);
    expect(r).toMatchObject({ ok: false, attempts: 0 });
  });

  it('uses the default 1 s backoff when not told otherwise (one retry)', async () => {
    rx.script('/s', { status: 500 });
    const started = Date.now();
    const [r] = await notifyAll([{ kind: 'slack', url: `${rx.url}/s` }], failure, {});
    expect(r).toMatchObject({ ok: true, attempts: 2 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });
});

describe('secrets', () => {
  it('logs scheme and host only, never the webhook path or query', async () => {
    rx.setDefault({ status: 500, body: 'error' });
    const logger = new MemoryLogger();
    await notifyAll(
      [
        { kind: 'slack', url: `${rx.url}/services/${SECRET}` },
        { kind: 'webhook', url: `${rx.url}/hook?token=${SECRET}` },
      ],
      failure,
      { ...fast, attempts: 1, logger },
    );
    rx.setDefault({ status: 200 });
    await notifyAll([{ kind: 'heartbeat', url: `${rx.url}/${SECRET}` }], success, { ...fast, logger });
    const text = logger.text();
    expect(text).toContain(`${rx.url}/…`);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('XXXXsecret');
  });

  it('validateNotifier names the input, never the URL', () => {
    expect(() => validateNotifier({ kind: 'slack', url: `ftp://x/${SECRET}` }, 'slack-webhook-url')).toThrow(
      ConfigError,
    );
    try {
      validateNotifier({ kind: 'slack', url: `hooks.slack.com/${SECRET}` }, 'slack-webhook-url');
    } catch (e) {
      expect((e as Error).message).toBe('slack-webhook-url is not a valid URL');
    }
    expect(() =>
      validateNotifier({ kind: 'teams', url: 'https://x.example/a', minSeverity: 'loud' as 'info' }),
    ).toThrow(/unknown minimum severity/);
    expect(() => validateNotifier({ kind: 'heartbeat', url: 'https://hc-ping.com/u' })).not.toThrow();
  });
});

describe('eventFromRun', () => {
  it('failure → critical with the reason; success with warnings → warning; plain success → info', () => {
    const failed = eventFromRun(
      makeRun('backup', Date.UTC(2024, 0, 15, 2), {
        status: 'failure',
        reason: 'pg_dump failed',
        backupId: 'lms_1',
      }),
    );
    expect(failed).toMatchObject({
      severity: 'critical',
      status: 'failure',
      command: 'backup',
      backupId: 'lms_1',
    });
    expect(failed.title).toBe('Backup failed: lms_1');
    expect(failed.text).toBe('pg_dump failed');
    const warned = eventFromRun(makeRun('backup', 0, { bytes: 1024 }), {
      warnings: ['The backup shrank to 1 KiB'],
    });
    expect(warned.severity).toBe('warning');
    expect(warned.fields.Size).toBe('1.00 KiB');
    const ok = eventFromRun(makeRun('drill', 0), { fields: { Engine: 'docker' }, link: 'https://x' });
    expect(ok).toMatchObject({ severity: 'info', title: 'Restore drill succeeded', link: 'https://x' });
    expect(ok.fields.Engine).toBe('docker');
  });
});
