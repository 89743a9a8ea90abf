/** The options spec against the action metadata, and the config file as a source of inputs. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDrillInputs, parseRestoreInputs, stepValues } from '../../src/action/inputs.js';
import { actionLogger } from '../../src/action/logger.js';
import { Secrets } from '../../src/action/secrets.js';
import { Problems } from '../../src/config.js';
import { ConfigErrors } from '../../src/errors.js';
import { configSchemaText } from '../../src/options/schema.js';
import { notifiersFromEnv } from '../../src/options/settings.js';
import {
  ACTION_STEPS,
  COMMAND_OPTIONS,
  type COMMANDS,
  descriptionOf,
  type OptionName,
  specOf,
} from '../../src/options/spec.js';
import { loadConfigFile, OptionValues } from '../../src/options/values.js';
import { FakeIO } from '../action/fake-io.js';
import { readAction } from '../action/helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'lms-options-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function ctx(io: FakeIO, env: NodeJS.ProcessEnv = {}) {
  const secrets = new Secrets(io);
  return { io, secrets, logger: actionLogger(io, secrets), env };
}

describe('the spec and the action metadata', () => {
  it.each(ACTION_STEPS)(
    '%s: every action.yml input is in the spec with its default and description, and back',
    (step) => {
      const inputs = readAction(step).inputs ?? {};
      const fromYml = Object.fromEntries(
        Object.entries(inputs).map(([k, v]) => [k, { default: v.default ?? '', description: v.description }]),
      );
      const fromSpec = Object.fromEntries(
        (COMMAND_OPTIONS[step] as readonly OptionName[]).map((n) => [
          n,
          { default: specOf(n).default, description: descriptionOf(n, step) },
        ]),
      );
      expect(fromYml).toEqual(fromSpec);
    },
  );
});

function values(step: (typeof COMMANDS)[number], direct: Record<string, string>, file?: string) {
  const problems = new Problems();
  const path = file ? join(tmp, `f${Math.random()}.yml`) : undefined;
  if (path) writeFileSync(path, file!);
  const cfg = path ? loadConfigFile(path, problems) : undefined;
  const v = new OptionValues({
    command: step,
    direct: (n) => (direct[n] === undefined ? undefined : { raw: direct[n]!, name: n, origin: 'input' }),
    env: {},
    file: cfg,
    surface: 'action',
    problems,
  });
  return { v, problems };
}

describe('the config file', () => {
  it('an input and its config key parse to the same value and the same error', () => {
    for (const [key, good, bad] of [
      ['min-tables', '3', 'many'],
      ['rto', '30m', 'soon'],
      ['engine', 'local', 'kubernetes'],
      ['before', '2024-01-15T03:00Z', 'yesterday-ish'],
      ['notify-min-severity', 'info', 'loud'],
    ] as const) {
      const a = values('drill', { [key]: good });
      const b = values('drill', {}, `drill:\n  ${key}: ${good}\n`);
      expect(b.v.get(key), key).toEqual(a.v.get(key));
      const c = values('drill', { [key]: bad });
      const d = values('drill', {}, `drill:\n  ${key}: ${bad}\n`);
      c.v.get(key);
      d.v.get(key);
      const norm = (p: Problems, name: string) => p.list.map((e) => e.message.replace(name, 'NAME'));
      expect(
        norm(d.problems, `: drill.${key}`).map((m) => m.replace(/^.*NAME/, 'NAME')),
        key,
      ).toEqual(norm(c.problems, key));
    }
  });

  it('flags and inputs override the file, the file overrides the default', () => {
    const { v } = values('drill', { 'min-tables': '5' }, 'drill:\n  min-tables: 3\n  rpo: 12h\n');
    expect(v.get('min-tables')).toBe(5);
    expect(v.get('rpo')).toBe(12 * 3600);
    expect(v.get('rto')).toBe(4 * 3600);
  });

  it('refuses a secret, a password in a URL, an unknown key and an unknown section, all at once', () => {
    const problems = new Problems();
    const path = join(tmp, 'bad.yml');
    writeFileSync(
      path,
      'backup:\n  passphrase: hunter2\n  database-url: postgresql://u:pw@db/lms\n  colour: blue\nbakup: {}\n',
    );
    expect(loadConfigFile(path, problems)).toBeUndefined();
    const msgs = problems.list.map((p) => `${p.message} (${p.hint})`);
    expect(msgs).toHaveLength(4);
    expect(msgs[0]).toMatch(
      /backup\.passphrase: a secret never goes in the config file.*LMS_BACKUP_PASSPHRASE/,
    );
    expect(msgs[1]).toMatch(/database-url holds a password.*PGPASSWORD/);
    expect(msgs[2]).toMatch(/backup\.colour is not an option of backup/);
    expect(msgs[3]).toMatch(/bakup is not a section/);
  });

  it("the action's config input supplies what the step's inputs leave out, per database in a fleet", async () => {
    const path = join(tmp, 'fleet.yml');
    writeFileSync(
      path,
      `drill:\n  min-tables: 2\ndatabases:\n  lms:\n    drill:\n      from: ${join(tmp, 'lms')}\n  crm:\n    drill:\n      from: ${join(tmp, 'crm')}\n      min-tables: 1\n`,
    );
    const io = new FakeIO({ config: path, database: 'crm', identity: 'AGE-SECRET-KEY-1QQQQ' });
    const v = stepValues(ctx(io), 'drill', new Problems());
    expect(v.get('min-tables')).toBe(1);
    expect(v.get('from')).toEqual([join(tmp, 'crm')]);
    const noDb = new Problems();
    stepValues(ctx(new FakeIO({ config: path })), 'drill', noDb);
    expect(noDb.list.map((p) => p.message)).toEqual([
      expect.stringMatching(/names databases \(lms, crm\): choose one/),
    ]);
    // The step then fails with that one problem, before it touches anything.
    await expect(
      parseDrillInputs(ctx(new FakeIO({ config: path })), { defaultReportDir: tmp }),
    ).rejects.toThrow(ConfigErrors);
  });

  it('the restore options merged from main read through the spec', async () => {
    const err = await parseRestoreInputs(
      ctx(new FakeIO({ 'create-roles': 'yes', 'target-url': 'postgresql://u@h/db' })),
    ).catch((e: ConfigErrors) => e.problems.map((p) => p.message));
    expect(err).toContain('create-roles must be true or false (got "yes")');
  });
});

describe('the config file schema', () => {
  it('docs/lms-backup.schema.json is the one the spec derives', () => {
    const text = readFileSync(
      join(import.meta.dirname, '..', '..', 'docs', 'lms-backup.schema.json'),
      'utf8',
    );
    expect(text).toBe(configSchemaText());
    const schema = JSON.parse(text) as {
      properties: Record<string, { properties?: Record<string, unknown> }>;
    };
    expect(Object.keys(schema.properties.drill!.properties!)).toContain('min-tables');
    expect(Object.keys(schema.properties.backup!.properties!)).not.toContain('passphrase');
  });
});

describe('validation merged from main, now for every surface', () => {
  it('a zero objective and a future before are refused together', () => {
    const { v, problems } = values('drill', {
      rto: '0',
      before: '2999-01-01T00:00Z',
      backup: 'lms_20240101_000000',
    });
    v.get('rto');
    v.get('before');
    expect(problems.list.map((p) => p.message)).toEqual([
      'rto 0 is zero: no recovery can meet it',
      expect.stringMatching(/^before 2999-01-01T00:00Z is in the future/),
    ]);
  });
});

describe('notifiers from the environment', () => {
  it('reads every notifier, the webhook authorization and the heartbeat method', () => {
    const problems = new Problems();
    const list = notifiersFromEnv(
      {
        LMS_BACKUP_SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x',
        LMS_BACKUP_WEBHOOK_URL: 'https://ops.example/hook',
        LMS_BACKUP_WEBHOOK_AUTHORIZATION: 'Bearer s3cret',
        LMS_BACKUP_HEARTBEAT_URL: 'https://hc-ping.com/uuid',
        LMS_BACKUP_HEARTBEAT_METHOD: 'get',
      },
      'info',
      problems,
    );
    expect(problems.list).toEqual([]);
    expect(list).toEqual([
      { kind: 'slack', url: 'https://hooks.slack.com/services/T/B/x', minSeverity: 'info' },
      {
        kind: 'webhook',
        url: 'https://ops.example/hook',
        minSeverity: 'info',
        headers: { authorization: 'Bearer s3cret' },
      },
      { kind: 'heartbeat', url: 'https://hc-ping.com/uuid', method: 'GET' },
    ]);
  });

  it('refuses a URL that cannot be a webhook, naming its variable and never showing it', () => {
    const problems = new Problems();
    const list = notifiersFromEnv(
      {
        LMS_BACKUP_TEAMS_WEBHOOK_URL: 'ftp://x/token-abc',
        LMS_BACKUP_HEARTBEAT_URL: 'https://hc-ping.com/uuid',
        LMS_BACKUP_HEARTBEAT_METHOD: 'PUT',
      },
      'warning',
      problems,
    );
    expect(list).toEqual([{ kind: 'heartbeat', url: 'https://hc-ping.com/uuid' }]);
    const messages = problems.list.map((p) => p.message);
    expect(messages).toEqual([
      expect.stringMatching(/^LMS_BACKUP_TEAMS_WEBHOOK_URL must be an http\(s\) URL/),
      'LMS_BACKUP_HEARTBEAT_METHOD must be GET or POST (got "PUT")',
    ]);
    expect(messages.join(' ')).not.toContain('token-abc');
  });
});
