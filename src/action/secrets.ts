/**
 * Masking. Every secret is registered the moment it is read: the runner hides it in the logs
 * (core.setSecret), and this process scrubs it from everything it prints itself (log lines,
 * the failure message, summaries, outputs), so a secret stays hidden outside a runner too.
 */

import { isSecretParam, redactValue, safeDecode } from '../redact.js';
import type { ActionIO } from './io.js';

/** Environment variables that hold credentials (PostgreSQL, age, storage). */
export const SECRET_ENV = [
  'PGPASSWORD',
  'LMS_BACKUP_PASSPHRASE',
  'LMS_BACKUP_IDENTITY',
  'AZURE_STORAGE_KEY',
  'AZURE_STORAGE_SAS_TOKEN',
  'AZURE_STORAGE_CONNECTION_STRING',
  'AZURE_CLIENT_SECRET',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'LMS_BACKUP_WEBHOOK_AUTHORIZATION',
  // webhook URLs carry their token in the path
  'LMS_BACKUP_SLACK_WEBHOOK_URL',
  'LMS_BACKUP_TEAMS_WEBHOOK_URL',
  'LMS_BACKUP_WEBHOOK_URL',
  'LMS_BACKUP_HEARTBEAT_URL',
] as const;

/** Shorter values would mask ordinary words in every log line. */
const MIN_SECRET_LENGTH = 4;

export class Secrets {
  private readonly values = new Set<string>();

  constructor(private readonly io: Pick<ActionIO, 'setSecret'>) {}

  /** Registers a secret (each line of a multi-line one too: the runner masks line by line). */
  add(value: string | undefined): void {
    if (!value) return;
    // Comment lines (an identity file's "# public key: age1…") are not secret.
    const lines = value
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => !l.startsWith('#'));
    const parts = [value, value.trim(), ...lines];
    for (const part of parts) {
      if (part.length < MIN_SECRET_LENGTH || this.values.has(part)) continue;
      this.values.add(part);
      this.io.setSecret(part);
    }
  }

  /** The password of a postgresql:// URL, raw and percent-decoded. */
  addConnectionUrl(url: string | undefined): void {
    if (!url) return;
    const m = /^[a-z][a-z0-9+.-]*:\/\/[^/@?#]*?:([^@/?#]*)@/i.exec(url.trim());
    if (m?.[1]) {
      this.add(m[1]);
      this.add(safeDecode(m[1]));
    }
    try {
      const u = new URL(url.trim());
      for (const [k, v] of u.searchParams) if (isSecretParam(k)) this.add(v);
    } catch {
      // not a URL: the parser reports it (redacted)
    }
  }

  /** SAS tokens and keys given in a destination URL's query. */
  addStorageLocation(location: string): void {
    const q = location.indexOf('?');
    if (q < 0) return;
    const params = new URLSearchParams(location.slice(q + 1));
    let hasSas = false;
    for (const [k, v] of params) {
      if (isSecretParam(k)) {
        this.add(v);
        this.add(encodeURIComponent(v));
        if (k === 'sig') hasSas = true;
      }
    }
    if (hasSas) this.add(location.slice(q + 1));
  }

  /** `AccountKey=…;SharedAccessSignature=…` parts of a connection string, and the whole. */
  addConnectionString(value: string | undefined): void {
    if (!value) return;
    this.add(value);
    for (const part of value.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && isSecretParam(part.slice(0, eq).trim())) this.add(part.slice(eq + 1).trim());
    }
  }

  /** Every credential in the step's environment. */
  addFromEnv(env: NodeJS.ProcessEnv): void {
    for (const name of SECRET_ENV) {
      const v = env[name];
      if (!v) continue;
      if (name === 'AZURE_STORAGE_CONNECTION_STRING') this.addConnectionString(v);
      else this.add(v);
      if (name === 'AZURE_STORAGE_SAS_TOKEN') this.add(v.trim().replace(/^\?/, ''));
    }
    for (const name of ['LMS_BACKUP_DATABASE_URL', 'DATABASE_URL', 'LMS_BACKUP_TARGET_URL']) {
      this.addConnectionUrl(env[name]);
    }
  }

  /** Replaces every registered secret in `text` with ***. Longest first, so parts never leak. */
  scrub(text: string): string {
    let out = text;
    for (const v of [...this.values].sort((a, b) => b.length - a.length)) out = redactValue(out, v);
    return out;
  }
}
