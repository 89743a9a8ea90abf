/**
 * Alerts: Slack and Microsoft Teams incoming webhooks, a generic JSON webhook, and a heartbeat
 * URL (healthchecks.io convention: `<url>` on success, `<url>/fail` on failure).
 *
 * Notifying is never the job: every notifier has a per-request timeout and bounded retries,
 * and `notifyAll` never throws; it returns one result per notifier for the caller to report.
 * Webhook URLs are secrets (the token is in the path): only scheme and host are ever logged.
 */
import type { RunRecord } from '../catalog/types.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import { formatBytes, formatDuration, webhookDisplay } from './format.js';

export type Severity = 'critical' | 'warning' | 'info';

const SEVERITY_RANK: Record<Severity, number> = { info: 1, warning: 2, critical: 3 };

export const EVENT_FORMAT = 'lms-backup/event@1';

export interface NotificationEvent {
  severity: Severity;
  /** One line, e.g. "Backup failed: lms_20240115_020000". */
  title: string;
  /** A few sentences a person can act on. Plain text. */
  text: string;
  /** Short facts shown as a table (database, size, duration, destination…). Never secrets. */
  fields: Record<string, string>;
  command: string;
  backupId?: string;
  status: 'success' | 'failure';
  /** ISO time of the event; defaults to when it is sent. */
  timestamp?: string;
  /** A link for "more" (e.g. the GitHub Actions run). */
  link?: string;
}

interface CommonNotifierConfig {
  url: string;
}

export interface WebhookNotifierConfig extends CommonNotifierConfig {
  kind: 'slack' | 'teams' | 'webhook';
  /** Events below this severity are not sent. Default "warning". */
  minSeverity?: Severity;
  /** Extra request headers for the generic webhook (LMS_BACKUP_WEBHOOK_AUTHORIZATION). Never logged. */
  headers?: Record<string, string>;
}

export interface HeartbeatNotifierConfig extends CommonNotifierConfig {
  kind: 'heartbeat';
  /** LMS_BACKUP_HEARTBEAT_METHOD; default POST, with a short plain-text body (healthchecks.io keeps it in its log). */
  method?: 'GET' | 'POST';
}

export type NotifierConfig = WebhookNotifierConfig | HeartbeatNotifierConfig;

export interface NotifyOptions {
  logger?: Logger;
  /** Per request, including reading the response. Default 10 000 ms. */
  timeoutMs?: number;
  /** Tries per notifier, first one included. Default 3. */
  attempts?: number;
  /** First retry delay; doubles each time. Default 1 000 ms. */
  backoffMs?: number;
  /** Cap on any delay, Retry-After included. Default 30 000 ms. */
  maxBackoffMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

export interface NotifyResult {
  name: string;
  kind: NotifierConfig['kind'];
  ok: boolean;
  attempts: number;
  /** Not sent on purpose (below the notifier's minimum severity). */
  skipped?: boolean;
  /** Last HTTP status seen. */
  status?: number;
  /** Why it failed; never contains the URL's secret parts. */
  error?: string;
}

// ---------------------------------------------------------------------------------------------
// Payloads

const SEVERITY_EMOJI: Record<Severity, string> = { critical: '🔴', warning: '🟠', info: '🟢' };

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

function slackEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function contextLine(event: NotificationEvent): string {
  const parts = [`lms-backup ${event.command}`, event.status, event.severity];
  if (event.backupId) parts.push(event.backupId);
  return parts.join(' · ');
}

/** Slack incoming webhook: Block Kit, with `text` as the notification fallback. */
export function slackPayload(event: NotificationEvent): Record<string, unknown> {
  const title = `${SEVERITY_EMOJI[event.severity]} ${event.title}`;
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(title, 150), emoji: true } },
  ];
  if (event.text) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(slackEscape(event.text), 3000) } });
  }
  const fields = Object.entries(event.fields).map(([k, v]) => ({
    type: 'mrkdwn',
    text: truncate(`*${slackEscape(k)}*\n${slackEscape(v)}`, 2000),
  }));
  // A section holds at most 10 fields.
  for (let i = 0; i < fields.length; i += 10)
    blocks.push({ type: 'section', fields: fields.slice(i, i + 10) });
  const context = slackEscape(contextLine(event)) + (event.link ? ` · <${event.link}|open the run>` : '');
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(context, 3000) }] });
  return { text: truncate(`${title}: ${event.text}`, 3000), blocks };
}

/**
 * Microsoft Teams: an Adaptive Card (1.4) in a message attachment, the shape both Teams
 * Workflows ("When a Teams webhook request is received") and the older connector webhooks take.
 */
export function teamsPayload(event: NotificationEvent): Record<string, unknown> {
  const color =
    event.severity === 'critical' ? 'Attention' : event.severity === 'warning' ? 'Warning' : 'Good';
  const body: Record<string, unknown>[] = [
    {
      type: 'TextBlock',
      text: `${SEVERITY_EMOJI[event.severity]} ${event.title}`,
      weight: 'Bolder',
      size: 'Medium',
      color,
      wrap: true,
    },
  ];
  if (event.text) body.push({ type: 'TextBlock', text: event.text, wrap: true });
  const facts = Object.entries(event.fields).map(([title, value]) => ({ title, value }));
  if (facts.length) body.push({ type: 'FactSet', facts });
  body.push({ type: 'TextBlock', text: contextLine(event), isSubtle: true, size: 'Small', wrap: true });
  const content: Record<string, unknown> = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    msteams: { width: 'Full' },
    body,
  };
  if (event.link) content.actions = [{ type: 'Action.OpenUrl', title: 'Open the run', url: event.link }];
  return {
    type: 'message',
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content }],
  };
}

/** The generic webhook gets the event itself, versioned. */
export function webhookPayload(event: NotificationEvent, now = new Date()): Record<string, unknown> {
  return {
    format: EVENT_FORMAT,
    ...event,
    timestamp: event.timestamp ?? now.toISOString(),
  };
}

/** healthchecks.io convention: the ping URL on success, `<url>/fail` on failure (query kept). */
export function heartbeatUrl(url: string, status: NotificationEvent['status']): string {
  if (status === 'success') return url;
  const u = new URL(url);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/fail`;
  return u.toString();
}

// ---------------------------------------------------------------------------------------------
// Configuration checks

/** Checks notifier settings; messages name the input and show the URL's host only. */
export function validateNotifier(config: NotifierConfig, inputName: string = config.kind): void {
  let u: URL;
  try {
    u = new URL(config.url);
  } catch {
    throw new ConfigError(`${inputName} is not a valid URL`, {
      hint: 'give the full webhook URL, starting with https://',
    });
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new ConfigError(`${inputName} must be an http(s) URL (got ${u.protocol}//…)`, {
      hint: 'give the full webhook URL, starting with https://',
    });
  }
  if (config.kind !== 'heartbeat' && config.minSeverity && !(config.minSeverity in SEVERITY_RANK)) {
    throw new ConfigError(`${inputName}: unknown minimum severity "${config.minSeverity}"`, {
      hint: 'use critical, warning or info',
    });
  }
}

export function isSeverity(v: string): v is Severity {
  return v in SEVERITY_RANK;
}

// ---------------------------------------------------------------------------------------------
// Sending

/** Removes every form of the URL's secret parts from a message. */
function scrub(message: string, url: string): string {
  let out = message;
  try {
    const u = new URL(url);
    const secrets = [url, u.href, `${u.host}${u.pathname}`, `${u.pathname}${u.search}`, u.search, u.pathname];
    for (const s of secrets) if (s && s !== '/' && s.length > 1) out = out.split(s).join('/…');
  } catch {
    // an unparsable URL was never sent
  }
  return out;
}

class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterMs: number | null,
    body: string,
  ) {
    super(`HTTP ${status}${body ? `: ${body}` : ''}`);
  }
}

function retryAfterMs(header: string | null): number | null {
  if (!header) return null;
  const secs = Number(header);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError')
      return `no answer within ${formatDuration(timeoutMs / 1000)}`;
    const cause = (error as { cause?: unknown }).cause;
    const code = cause && typeof cause === 'object' && 'code' in cause ? String(cause.code) : '';
    const causeMessage = cause instanceof Error ? cause.message : '';
    return [error.message, code || causeMessage].filter(Boolean).join(': ');
  }
  return String(error);
}

interface Request {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

function isRetryable(error: unknown): boolean {
  if (error instanceof HttpStatusError)
    return error.status >= 500 || error.status === 429 || error.status === 408;
  return true; // network errors and timeouts
}

async function sendWithRetries(
  request: Request,
  options: Required<Omit<NotifyOptions, 'logger'>>,
): Promise<{ ok: boolean; attempts: number; status?: number; error?: string }> {
  let lastError: unknown;
  let lastStatus: number | undefined;
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    try {
      const init: RequestInit = {
        method: request.method,
        headers: request.headers,
        signal: AbortSignal.timeout(options.timeoutMs),
        redirect: 'follow',
      };
      if (request.body !== undefined) init.body = request.body;
      const response = await options.fetch(request.url, init);
      lastStatus = response.status;
      // Read the body within the same timeout: a server can stall after the headers.
      const text = (await response.text()).trim();
      if (response.ok) return { ok: true, attempts: attempt, status: response.status };
      throw new HttpStatusError(
        response.status,
        retryAfterMs(response.headers.get('retry-after')),
        truncate(text, 200),
      );
    } catch (error) {
      lastError = error;
      if (!isRetryable(error) || attempt === options.attempts) {
        const result: { ok: boolean; attempts: number; status?: number; error?: string } = {
          ok: false,
          attempts: attempt,
          error: scrub(
            error instanceof HttpStatusError ? error.message : describeFetchError(error, options.timeoutMs),
            request.url,
          ),
        };
        if (lastStatus !== undefined && error instanceof HttpStatusError) result.status = lastStatus;
        return result;
      }
      const backoff = options.backoffMs * 2 ** (attempt - 1);
      const hinted = error instanceof HttpStatusError ? error.retryAfterMs : null;
      await options.sleep(Math.min(options.maxBackoffMs, Math.max(backoff, hinted ?? 0)));
    }
  }
  // Only reached with attempts < 1.
  return {
    ok: false,
    attempts: 0,
    error: lastError === undefined ? 'no attempts allowed' : String(lastError),
  };
}

function requestFor(config: NotifierConfig, event: NotificationEvent): Request {
  const json = { 'content-type': 'application/json', 'user-agent': 'lms-backup' };
  switch (config.kind) {
    case 'slack':
      return { url: config.url, method: 'POST', headers: json, body: JSON.stringify(slackPayload(event)) };
    case 'teams':
      return { url: config.url, method: 'POST', headers: json, body: JSON.stringify(teamsPayload(event)) };
    case 'webhook':
      return {
        url: config.url,
        method: 'POST',
        headers: { ...json, ...config.headers },
        body: JSON.stringify(webhookPayload(event)),
      };
    case 'heartbeat': {
      const url = heartbeatUrl(config.url, event.status);
      if ((config.method ?? 'POST') === 'GET')
        return { url, method: 'GET', headers: { 'user-agent': 'lms-backup' } };
      return {
        url,
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8', 'user-agent': 'lms-backup' },
        body: truncate(`${event.title}\n${event.text}`, 10_000),
      };
    }
  }
}

/** Names for results and logs: the kind, made unique with "#2", "#3". */
function notifierNames(configs: readonly NotifierConfig[]): string[] {
  const seen = new Map<string, number>();
  return configs.map((c) => {
    const base = c.kind;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}#${n}`;
  });
}

/**
 * Sends `event` to every notifier at once and reports each outcome; never throws. Webhooks
 * below their minimum severity are skipped; the heartbeat is pinged for every event (its
 * purpose is to notice when runs stop arriving), at `/fail` when the run failed.
 */
export async function notifyAll(
  notifiers: readonly NotifierConfig[],
  event: NotificationEvent,
  options: NotifyOptions = {},
): Promise<NotifyResult[]> {
  const { logger } = options;
  const settings: Required<Omit<NotifyOptions, 'logger'>> = {
    timeoutMs: options.timeoutMs ?? 10_000,
    attempts: options.attempts ?? 3,
    backoffMs: options.backoffMs ?? 1_000,
    maxBackoffMs: options.maxBackoffMs ?? 30_000,
    fetch: options.fetch ?? globalThis.fetch,
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
  };
  const names = notifierNames(notifiers);
  return Promise.all(
    notifiers.map(async (config, i): Promise<NotifyResult> => {
      const name = names[i]!;
      const where = `${name} (${webhookDisplay(config.url)})`;
      let result: NotifyResult;
      try {
        if (config.kind !== 'heartbeat') {
          const min = config.minSeverity ?? 'warning';
          if (SEVERITY_RANK[event.severity] < SEVERITY_RANK[min]) {
            logger?.debug(`not notifying ${where}: ${event.severity} is below its minimum ${min}`);
            return { name, kind: config.kind, ok: true, attempts: 0, skipped: true };
          }
        }
        result = { name, kind: config.kind, ...(await sendWithRetries(requestFor(config, event), settings)) };
      } catch (error) {
        // e.g. an invalid URL that slipped past validation: still a result, never a throw.
        result = {
          name,
          kind: config.kind,
          ok: false,
          attempts: 0,
          error: scrub(error instanceof Error ? error.message : String(error), config.url),
        };
      }
      try {
        if (result.ok)
          logger?.info(`notified ${where} (${result.attempts} attempt${result.attempts === 1 ? '' : 's'})`);
        else logger?.warn(`could not notify ${where} after ${result.attempts} attempt(s): ${result.error}`);
      } catch {
        // logging must not turn a result into a throw
      }
      return result;
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Events from runs

export interface RunEventExtras {
  /** Anomaly or other warnings that raise a successful run to "warning". */
  warnings?: readonly string[];
  /** Extra facts (database, destination…). */
  fields?: Record<string, string>;
  link?: string;
}

const COMMAND_TITLE: Record<string, string> = {
  backup: 'Backup',
  verify: 'Verify',
  drill: 'Restore drill',
  restore: 'Restore',
  prune: 'Prune',
  report: 'DR report',
  demo: 'Demo',
};

/**
 * The event for a finished run: failure → critical, success with warnings → warning,
 * otherwise info. Commands can build their own events; this is the common case.
 */
export function eventFromRun(record: RunRecord, extras: RunEventExtras = {}): NotificationEvent {
  const warnings = [...record.warnings, ...(extras.warnings ?? [])].filter(
    (w, i, all) => all.indexOf(w) === i,
  );
  const failed = record.status === 'failure';
  const severity: Severity = failed ? 'critical' : warnings.length ? 'warning' : 'info';
  const what = COMMAND_TITLE[record.command] ?? record.command;
  const outcome = failed ? 'failed' : warnings.length ? 'succeeded with warnings' : 'succeeded';
  const title = `${what} ${outcome}${record.backupId ? `: ${record.backupId}` : ''}`;
  const lines: string[] = [];
  if (failed) lines.push(record.reason ?? 'The run failed without a reason; see the job log.');
  lines.push(...warnings);
  if (!lines.length) lines.push(`${what} finished in ${formatDuration(record.durationMs / 1000)}.`);
  const fields: Record<string, string> = {
    Status: record.status,
    Duration: formatDuration(record.durationMs / 1000),
  };
  if (record.backupId) fields.Backup = record.backupId;
  if (record.bytes !== undefined) fields.Size = formatBytes(record.bytes);
  fields.Started = record.startedAt;
  Object.assign(fields, extras.fields);
  const event: NotificationEvent = {
    severity,
    title,
    text: lines.join('\n'),
    fields,
    command: record.command,
    status: record.status,
    timestamp: record.finishedAt,
  };
  if (record.backupId) event.backupId = record.backupId;
  if (extras.link) event.link = extras.link;
  return event;
}
