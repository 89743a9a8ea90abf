/** One notion of a secret in text, shared by every redactor: errors, logs, the action's masks. */
import { describe, expect, it } from 'vitest';
import { Secrets } from '../../src/action/secrets.js';
import { hasSecretParam, redactUrl, redactValue, safeDecode } from '../../src/redact.js';
import { redactLocation } from '../../src/storage/url.js';
import { FakeIO } from '../action/fake-io.js';

const PARAMS = [
  'sig',
  'password',
  'AccountKey',
  'token',
  'X-Amz-Signature',
  'X-Amz-Security-Token',
  'x-goog-signature',
];

describe('redaction', () => {
  it.each(PARAMS)('%s is masked by every redactor, and flagged by the config-file check', (name) => {
    const url = `https://acct.example/c/x?sv=2024&${name}=VERYSECRET123&se=2030`;
    expect(redactUrl(url)).not.toContain('VERYSECRET123');
    expect(redactUrl(url)).toContain('sv=2024');
    expect(redactLocation(url)).not.toContain('VERYSECRET123');
    expect(hasSecretParam(url)).toBe(true);
    const io = new FakeIO({});
    const secrets = new Secrets(io);
    secrets.addStorageLocation(url);
    expect(secrets.scrub(`failed: ${url}`)).not.toContain('VERYSECRET123');
  });

  it('masks URL passwords, known values, and never throws on a bad escape', () => {
    expect(redactUrl('postgresql://backup:hunter2@db:5432/lms')).toBe('postgresql://backup:***@db:5432/lms');
    expect(redactValue('auth failed for hunter2 (hunter2)', 'hunter2')).toBe('auth failed for *** (***)');
    expect(redactValue('nothing to hide', '')).toBe('nothing to hide');
    expect(safeDecode('%E0%A4%A')).toBe('%E0%A4%A');
    expect(safeDecode('p%40ss')).toBe('p@ss');
    expect(hasSecretParam('https://example.com/?sv=1&se=2')).toBe(false);
  });
});
