import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ConfigError, ConfigErrors } from '../errors.js';
import { isSecretParam, redactUrl, safeDecode } from '../redact.js';
import { StorageConfigError, StorageKeyError } from './errors.js';
import { normaliseRoot } from './keys.js';

/** A destination, parsed. `prefix` is the root inside the bucket/container ("" or "lms/prod"). */
export type StorageLocation =
  | { kind: 'local'; path: string }
  | {
      kind: 'azure';
      account: string;
      container: string;
      prefix: string;
      /** Blob service URL, e.g. http://127.0.0.1:10000/devstoreaccount1 (Azurite). */
      endpoint?: string;
      /** A SAS token given in the URL itself (secret: never displayed). */
      sas?: string;
    }
  | {
      kind: 's3';
      bucket: string;
      prefix: string;
      region?: string;
      endpoint?: string;
      forcePathStyle?: boolean;
      /** Send x-amz-checksum-sha256 on single-part uploads (default true). */
      serverChecksum?: boolean;
    }
  | { kind: 'gcs'; bucket: string; prefix: string; endpoint?: string };

export const LOCATION_FORMS = [
  '/var/backups/lms or file:///var/backups/lms (local directory)',
  'azure://<account>/<container>/<prefix>[?endpoint=<blob service URL>]',
  's3://<bucket>/<prefix>[?region=<region>&endpoint=<URL>&forcePathStyle=true]',
  'gs://<bucket>/<prefix>[?endpoint=<URL>]',
].join('; ');

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
const KNOWN_SCHEMES = /^(file|azure|az|s3|gs|gcs|https?|wasbs?|abfss?):/i;
const WINDOWS_PATH = /^[A-Za-z]:[\\/]/;

/** SAS query parameters (service and account SAS, user delegation SAS). */
const SAS_PARAMS = new Set([
  'sv',
  'ss',
  'srt',
  'sp',
  'se',
  'st',
  'spr',
  'sip',
  'sr',
  'sig',
  'si',
  'sdd',
  'ses',
  'skoid',
  'sktid',
  'skt',
  'ske',
  'sks',
  'skv',
  'saoid',
  'suoid',
  'scid',
  'rscc',
  'rscd',
  'rsce',
  'rscl',
  'rsct',
]);

/**
 * Parses a destination: a plain path or `file://` URL (local), `azure://`, `s3://` or `gs://`.
 * Throws a ConfigError (several, collected) naming the input, in redacted form, and the fix.
 */
export function parseStorageLocation(input: string, opts: { cwd?: string } = {}): StorageLocation {
  const raw = input.trim();
  const shown = redactLocation(raw);
  if (raw === '') {
    throw new StorageConfigError('storage location is empty', { hint: `use one of: ${LOCATION_FORMS}` });
  }
  const scheme = SCHEME.exec(raw)?.[1]?.toLowerCase();
  if (!scheme || WINDOWS_PATH.test(raw)) {
    if (!WINDOWS_PATH.test(raw) && KNOWN_SCHEMES.test(raw)) {
      throw new StorageConfigError(`storage location "${shown}" is missing "//" after the scheme`, {
        hint: `use one of: ${LOCATION_FORMS}`,
      });
    }
    return { kind: 'local', path: isAbsolute(raw) ? resolve(raw) : resolve(opts.cwd ?? process.cwd(), raw) };
  }

  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new StorageConfigError(`storage location "${shown}" is not a valid URL`, {
      hint: `use one of: ${LOCATION_FORMS}`,
    });
  }
  const problems: ConfigError[] = [];
  const problem = (message: string, hint: string) =>
    problems.push(new StorageConfigError(`storage location "${shown}": ${message}`, { hint }));

  if (url.username || url.password) {
    problem(
      'credentials do not belong in the location URL',
      'remove them from the URL and pass them through the environment (see the storage documentation)',
    );
  }
  if (url.hash) problem('a "#fragment" is not allowed', 'remove everything from "#"');
  // new URL() resolves "." and ".." segments silently ("a/../../etc" → "etc"): refuse them.
  const rawPath = /^[^:]+:\/\/[^/?#]*([^?#]*)/.exec(raw)?.[1] ?? '';
  if (
    rawPath
      .split('/')
      .map((s) => safeDecode(s))
      .some((s) => s === '.' || s === '..')
  ) {
    problem(
      `the path "${rawPath}" is not a safe object prefix ("." or ".." segments)`,
      'use a plain relative prefix such as "lms/prod"',
    );
  }

  let location: StorageLocation | undefined;
  switch (scheme) {
    case 'file': {
      if (url.host && url.host !== 'localhost') {
        problem(`file URLs name a local path, not host "${url.host}"`, 'use file:///absolute/path');
      }
      if (url.search) problem('file URLs take no query parameters', 'remove everything from "?"');
      if (problems.length === 0) location = { kind: 'local', path: resolve(fileURLToPath(url)) };
      break;
    }
    case 'azure':
    case 'az': {
      const account = decodeHost(url);
      if (!/^[a-z0-9]{3,24}$/.test(account)) {
        problem(
          `"${account}" is not an Azure storage account name`,
          'the host is the account name: 3-24 lowercase letters and digits, e.g. azure://myaccount/backups/lms',
        );
      }
      const [container = '', ...rest] = pathSegments(url);
      if (!/^(?:\$root|[a-z0-9](?:[a-z0-9]|-(?!-)){1,61}[a-z0-9])$/.test(container)) {
        problem(
          container ? `"${container}" is not an Azure container name` : 'the container is missing',
          'the first path segment is the container: 3-63 lowercase letters, digits and single hyphens, e.g. azure://myaccount/backups/lms',
        );
      }
      const prefix = rootOf(rest, problem);
      const params = new Map(url.searchParams);
      const endpoint = takeEndpoint(params, problem);
      let sas: string | undefined;
      if (params.has('sig')) {
        const sasParams = new URLSearchParams();
        for (const [k, v] of params) {
          if (SAS_PARAMS.has(k)) {
            sasParams.append(k, v);
            params.delete(k);
          }
        }
        sas = sasParams.toString();
      }
      rejectUnknown(params, ['endpoint', '(a SAS token: sv, sig, …)'], problem);
      location = {
        kind: 'azure',
        account,
        container,
        prefix,
        ...(endpoint ? { endpoint } : {}),
        ...(sas ? { sas } : {}),
      };
      break;
    }
    case 's3': {
      const bucket = decodeHost(url);
      if (!/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/.test(bucket)) {
        problem(
          `"${bucket}" is not an S3 bucket name`,
          'the host is the bucket: 3-63 lowercase letters, digits, dots and hyphens, e.g. s3://my-backups/lms',
        );
      }
      const prefix = rootOf(pathSegments(url), problem);
      const params = new Map(url.searchParams);
      const endpoint = takeEndpoint(params, problem);
      const region = params.get('region');
      params.delete('region');
      if (region !== undefined && !/^[a-z0-9-]{2,40}$/.test(region)) {
        problem(`"${region}" is not a region name`, 'use e.g. ?region=eu-west-1');
      }
      const forcePathStyle = takeBoolean(params, 'forcePathStyle', problem);
      const serverChecksum = takeBoolean(params, 'serverChecksum', problem);
      rejectUnknown(params, ['region', 'endpoint', 'forcePathStyle', 'serverChecksum'], problem);
      location = {
        kind: 's3',
        bucket,
        prefix,
        ...(region ? { region } : {}),
        ...(endpoint ? { endpoint } : {}),
        ...(forcePathStyle !== undefined ? { forcePathStyle } : {}),
        ...(serverChecksum !== undefined ? { serverChecksum } : {}),
      };
      break;
    }
    case 'gs':
    case 'gcs': {
      const bucket = decodeHost(url);
      if (!/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(bucket)) {
        problem(
          `"${bucket}" is not a Cloud Storage bucket name`,
          'the host is the bucket: lowercase letters, digits, dots, hyphens and underscores, e.g. gs://my-backups/lms',
        );
      }
      const prefix = rootOf(pathSegments(url), problem);
      const params = new Map(url.searchParams);
      const endpoint = takeEndpoint(params, problem);
      rejectUnknown(params, ['endpoint'], problem);
      location = { kind: 'gcs', bucket, prefix, ...(endpoint ? { endpoint } : {}) };
      break;
    }
    default:
      problem(
        `unknown scheme "${scheme}://"`,
        scheme.startsWith('http') || scheme.startsWith('wasb') || scheme.startsWith('abfs')
          ? `write the destination as one of: ${LOCATION_FORMS}`
          : `supported: ${LOCATION_FORMS}`,
      );
  }
  if (problems.length === 1) throw problems[0]!;
  if (problems.length > 1) throw new ConfigErrors(problems);
  return location!;
}

/** The location for logs and reports: rebuilt from the parsed parts, so no credential can leak. */
export function displayLocation(loc: StorageLocation): string {
  const withPrefix = (base: string, prefix: string) => (prefix ? `${base}/${prefix}` : base);
  const query = (params: [string, string | undefined][]) => {
    const set = params.filter((p): p is [string, string] => p[1] !== undefined);
    return set.length ? `?${set.map(([k, v]) => `${k}=${v}`).join('&')}` : '';
  };
  switch (loc.kind) {
    case 'local':
      return loc.path;
    case 'azure':
      return (
        withPrefix(`azure://${loc.account}/${loc.container}`, loc.prefix) +
        query([['endpoint', loc.endpoint && safeEndpoint(loc.endpoint)]])
      );
    case 's3':
      return (
        withPrefix(`s3://${loc.bucket}`, loc.prefix) +
        query([
          ['region', loc.region],
          ['endpoint', loc.endpoint && safeEndpoint(loc.endpoint)],
          ['forcePathStyle', loc.forcePathStyle === undefined ? undefined : String(loc.forcePathStyle)],
        ])
      );
    case 'gcs':
      return (
        withPrefix(`gs://${loc.bucket}`, loc.prefix) +
        query([['endpoint', loc.endpoint && safeEndpoint(loc.endpoint)]])
      );
  }
}

/**
 * Any location string with credentials masked: userinfo passwords, SAS signatures, keys and
 * tokens in the query (also inside a nested `endpoint=` URL). Safe for error messages.
 */
export function redactLocation(text: string): string {
  let url: URL | undefined;
  try {
    url = SCHEME.test(text) ? new URL(text) : undefined;
  } catch {
    url = undefined;
  }
  if (!url)
    return redactUrl(text).replace(/(^|[\s?&;])([\w-]+)=([^&\s;]*)/g, (m, lead: string, k: string) =>
      isSecretParam(k) ? `${lead}${k}=***` : m,
    );
  if (url.password) url.password = '***';
  const params = [...url.searchParams];
  if (params.length) {
    url.search = params
      .map(([k, v]) => {
        const value = isSecretParam(k) ? '***' : k === 'endpoint' ? redactLocation(v) : v;
        return `${encodeURIComponent(k)}=${k === 'endpoint' ? value : encodeURIComponent(value)}`;
      })
      .join('&');
  }
  return redactUrl(url.toString());
}

function safeEndpoint(endpoint: string): string {
  try {
    const u = new URL(endpoint);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '<invalid endpoint>';
  }
}

function decodeHost(url: URL): string {
  try {
    return decodeURIComponent(url.host);
  } catch {
    return url.host;
  }
}

function pathSegments(url: URL): string[] {
  return url.pathname
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}

function rootOf(segments: string[], problem: (m: string, h: string) => void): string {
  try {
    return normaliseRoot(segments.join('/'));
  } catch (err) {
    problem(
      `the prefix "${segments.join('/')}" is not a safe object prefix${err instanceof StorageKeyError ? ` (${err.message})` : ''}`,
      'use a plain relative prefix such as "lms/prod" (no "..", no backslashes)',
    );
    return '';
  }
}

function takeEndpoint(
  params: Map<string, string>,
  problem: (m: string, h: string) => void,
): string | undefined {
  const value = params.get('endpoint');
  params.delete('endpoint');
  if (value === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    problem(
      `endpoint "${redactUrl(value)}" is not a URL`,
      'use e.g. ?endpoint=http://127.0.0.1:10000/devstoreaccount1',
    );
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    problem(
      `endpoint "${redactUrl(value)}" must be http:// or https://`,
      'use e.g. ?endpoint=https://storage.example.com',
    );
    return undefined;
  }
  if (u.username || u.password || u.search) {
    problem('the endpoint must not carry credentials or a query', 'pass credentials through the environment');
    return undefined;
  }
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

function takeBoolean(
  params: Map<string, string>,
  name: string,
  problem: (m: string, h: string) => void,
): boolean | undefined {
  const value = params.get(name);
  params.delete(name);
  if (value === undefined) return undefined;
  if (value === 'true' || value === '1' || value === '') return true;
  if (value === 'false' || value === '0') return false;
  problem(`${name}=${value} is not a boolean`, `use ${name}=true or ${name}=false`);
  return undefined;
}

function rejectUnknown(
  params: Map<string, string>,
  known: string[],
  problem: (m: string, h: string) => void,
): void {
  for (const name of params.keys()) {
    const shownName = isSecretParam(name) ? name : name.slice(0, 40);
    problem(`unknown parameter "${shownName}"`, `known parameters: ${known.join(', ')}`);
  }
}
