/**
 * A local stand-in for Google Cloud Storage: the subset of the JSON API that
 * @google-cloud/storage 7.x uses for our backend, implemented from the public API reference
 * (https://cloud.google.com/storage/docs/json_api) and checked against the requests the real
 * SDK sends. There is no GCS emulator on this machine; docs/storage-gcs-testing.md lists
 * exactly what this does and does not prove.
 *
 * Implemented: uploads (uploadType=media, multipart, resumable: single request "bytes 0-*\/*",
 * chunked "bytes a-b/*" → 308 + Range, final "bytes a-b/total", status query "bytes *\/*"),
 * objects.get (metadata, alt=media with Range, x-goog-hash), objects.list (prefix, maxResults,
 * pageToken), objects.delete, the ifGenerationMatch precondition (0 = must not exist) on
 * uploads (checked at initiation and at finalisation, like GCS), reads and deletes, the JSON
 * error body, md5Hash and crc32c of stored bytes. Not implemented (answered 501): every other
 * endpoint and precondition, delimiters, versioning, compose, rewrite, ACLs, auth.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CRC32C } from '@google-cloud/storage';

export interface GcsObject {
  name: string;
  data: Buffer;
  generation: string;
  contentType: string;
  metadata: Record<string, string>;
  md5Hash: string;
  crc32c: string;
  created: Date;
  updated: Date;
}

interface Session {
  bucket: string;
  name: string;
  contentType: string;
  metadata: Record<string, string>;
  ifGenerationMatch: string | undefined;
  chunks: Buffer[];
  received: number;
  result?: GcsObject;
}

export interface GcsServer {
  /** http://127.0.0.1:<port>, for ?endpoint= or STORAGE_EMULATOR_HOST. */
  endpoint: string;
  port: number;
  buckets: Map<string, Map<string, GcsObject>>;
  /** Every answered request as "METHOD path?query -> status", for tests that check what the SDK did. */
  requests: string[];
  /** Open resumable sessions (not finalised). */
  openSessions(): number;
  /** Changes stored bytes behind the API, leaving md5Hash/crc32c as they were (bit rot). */
  corrupt(bucket: string, name: string, mutate: (data: Buffer) => Buffer): void;
  stop(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason: string,
  ) {
    super(message);
  }
}

let generationCounter = 0;
function nextGeneration(): string {
  generationCounter = (generationCounter + 1) % 1000;
  return String(Date.now() * 1000 + generationCounter);
}

function crc32cOf(data: Buffer): string {
  const crc = new CRC32C();
  crc.update(data);
  return crc.toString();
}

export async function startGcsServer(opts: { buckets?: string[] } = {}): Promise<GcsServer> {
  const buckets = new Map<string, Map<string, GcsObject>>();
  for (const b of opts.buckets ?? ['backups']) buckets.set(b, new Map());
  const sessions = new Map<string, Session>();
  const requests: string[] = [];

  const bucketOf = (name: string) => {
    const b = buckets.get(name);
    if (!b) throw new HttpError(404, 'The specified bucket does not exist.', 'notFound');
    return b;
  };

  const checkPreconditions = (query: URLSearchParams, existing: GcsObject | undefined) => {
    for (const key of query.keys()) {
      if (/^if(Meta)?[Gg]eneration/.test(key) && key !== 'ifGenerationMatch') {
        throw new HttpError(501, `precondition ${key} is not implemented by the stand-in`, 'notImplemented');
      }
    }
    const match = query.get('ifGenerationMatch');
    if (match === null) return;
    const ok = match === '0' ? existing === undefined : existing?.generation === match;
    if (!ok)
      throw new HttpError(
        412,
        'At least one of the pre-conditions you specified did not hold.',
        'conditionNotMet',
      );
  };

  const store = (
    bucket: string,
    name: string,
    data: Buffer,
    contentType: string,
    metadata: Record<string, string>,
  ) => {
    const now = new Date();
    const obj: GcsObject = {
      name,
      data,
      generation: nextGeneration(),
      contentType,
      metadata,
      md5Hash: createHash('md5').update(data).digest('base64'),
      crc32c: crc32cOf(data),
      created: now,
      updated: now,
    };
    bucketOf(bucket).set(name, obj);
    return obj;
  };

  const resource = (bucket: string, o: GcsObject) => ({
    kind: 'storage#object',
    id: `${bucket}/${o.name}/${o.generation}`,
    selfLink: `/storage/v1/b/${bucket}/o/${encodeURIComponent(o.name)}`,
    name: o.name,
    bucket,
    generation: o.generation,
    metageneration: '1',
    contentType: o.contentType,
    storageClass: 'STANDARD',
    size: String(o.data.length),
    md5Hash: o.md5Hash,
    crc32c: o.crc32c,
    etag: createHash('md5').update(o.generation).digest('base64').slice(0, 12),
    timeCreated: o.created.toISOString(),
    updated: o.updated.toISOString(),
    ...(Object.keys(o.metadata).length ? { metadata: o.metadata } : {}),
  });

  const finalise = (s: Session, query: URLSearchParams) => {
    if (s.result) return s.result;
    const objects = bucketOf(s.bucket);
    const q = new URLSearchParams(query);
    if (s.ifGenerationMatch !== undefined) q.set('ifGenerationMatch', s.ifGenerationMatch);
    checkPreconditions(q, objects.get(s.name));
    s.result = store(s.bucket, s.name, Buffer.concat(s.chunks), s.contentType, s.metadata);
    s.chunks = [];
    return s.result;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const query = url.searchParams;
    // The SDK uses <endpoint>/storage/v1 normally and the bare STORAGE_EMULATOR_HOST otherwise.
    const path = url.pathname.replace(/^\/storage\/v1(?=\/b\/)/, '');
    const json = (status: number, value: unknown, headers: Record<string, string> = {}) => {
      const text = JSON.stringify(value);
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
      res.end(text);
    };

    const uploadRoute = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
    const listRoute = /^\/b\/([^/]+)\/o$/.exec(path);
    const objectRoute = /^\/b\/([^/]+)\/o\/(.+)$/.exec(path);
    const bucketRoute = /^\/b\/([^/]+)$/.exec(path);
    // --- uploads
    if (uploadRoute) {
      const m = uploadRoute;
      const bucket = decodeURIComponent(m[1]!);
      const objects = bucketOf(bucket);
      const uploadType = query.get('uploadType');
      if (req.method === 'POST' && uploadType === 'media') {
        const name = query.get('name');
        if (!name) throw new HttpError(400, 'Required parameter: name', 'required');
        checkPreconditions(query, objects.get(name));
        const o = store(
          bucket,
          name,
          body,
          String(req.headers['content-type'] ?? 'application/octet-stream'),
          {},
        );
        return json(200, resource(bucket, o));
      }
      if (req.method === 'POST' && uploadType === 'multipart') {
        const { meta, media, mediaType } = parseMultipart(String(req.headers['content-type'] ?? ''), body);
        const name = query.get('name') ?? (meta.name as string | undefined);
        if (!name) throw new HttpError(400, 'Required parameter: name', 'required');
        checkPreconditions(query, objects.get(name));
        const o = store(
          bucket,
          name,
          media,
          (meta.contentType as string | undefined) ?? mediaType,
          (meta.metadata as Record<string, string> | undefined) ?? {},
        );
        return json(200, resource(bucket, o));
      }
      if (req.method === 'POST' && uploadType === 'resumable') {
        const meta = body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
        const name = query.get('name') ?? (meta.name as string | undefined);
        if (!name) throw new HttpError(400, 'Required parameter: name', 'required');
        checkPreconditions(query, objects.get(name));
        const id = randomBytes(12).toString('hex');
        sessions.set(id, {
          bucket,
          name,
          contentType:
            (meta.contentType as string | undefined) ??
            String(req.headers['x-upload-content-type'] ?? 'application/octet-stream'),
          metadata: (meta.metadata as Record<string, string> | undefined) ?? {},
          ifGenerationMatch: query.get('ifGenerationMatch') ?? undefined,
          chunks: [],
          received: 0,
        });
        const location = `http://${req.headers.host}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`;
        res.writeHead(200, { location, 'x-guploader-uploadid': id, 'content-length': '0' });
        return res.end();
      }
      if (req.method === 'PUT' && uploadType === 'resumable') {
        const s = sessions.get(query.get('upload_id') ?? '');
        if (!s) throw new HttpError(404, 'No such upload session', 'notFound');
        const range = String(req.headers['content-range'] ?? 'bytes */*');
        const r = /^bytes (?:(\d+)-(\d+|\*)|\*)\/(\d+|\*)$/.exec(range);
        if (!r) throw new HttpError(400, `bad Content-Range ${range}`, 'invalid');
        const total = r[3] === '*' ? undefined : Number(r[3]);
        if (s.result) return json(200, resource(s.bucket, s.result));
        if (r[1] !== undefined) {
          const start = Number(r[1]);
          if (start > s.received)
            throw new HttpError(400, `chunk starts at ${start}, have ${s.received}`, 'invalid');
          // Bytes already received are not taken twice (a client resending after a lost answer).
          const fresh = body.subarray(s.received - start);
          s.chunks.push(fresh);
          s.received += fresh.length;
          // "a-*/*": the request body is the rest of the object.
          if (r[2] === '*' && total === undefined) return json(200, resource(s.bucket, finalise(s, query)));
        }
        if (total !== undefined && s.received === total)
          return json(200, resource(s.bucket, finalise(s, query)));
        if (total !== undefined && s.received > total)
          throw new HttpError(400, 'more bytes than declared', 'invalid');
        res.writeHead(
          308,
          s.received > 0
            ? { range: `bytes=0-${s.received - 1}`, 'content-length': '0' }
            : { 'content-length': '0' },
        );
        return res.end();
      }
      throw new HttpError(
        501,
        `upload ${req.method} uploadType=${uploadType} is not implemented by the stand-in`,
        'notImplemented',
      );
    }
    // --- objects.list
    if (listRoute && req.method === 'GET') {
      const m = listRoute;
      const objects = bucketOf(decodeURIComponent(m[1]!));
      if (query.get('delimiter'))
        throw new HttpError(501, 'delimiter is not implemented by the stand-in', 'notImplemented');
      const prefix = query.get('prefix') ?? '';
      const max = Math.min(1000, Number(query.get('maxResults') ?? 1000));
      const after = query.get('pageToken')
        ? Buffer.from(query.get('pageToken')!, 'base64url').toString('utf8')
        : undefined;
      const names = [...objects.keys()]
        .filter(
          (n) =>
            n.startsWith(prefix) &&
            (after === undefined || Buffer.compare(Buffer.from(n), Buffer.from(after)) > 0),
        )
        .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      const page = names.slice(0, max);
      const more = names.length > max;
      return json(200, {
        kind: 'storage#objects',
        ...(page.length
          ? { items: page.map((n) => resource(decodeURIComponent(m[1]!), objects.get(n)!)) }
          : {}),
        ...(more ? { nextPageToken: Buffer.from(page[page.length - 1]!).toString('base64url') } : {}),
      });
    }
    // --- objects.get / objects.delete
    if (objectRoute) {
      const m = objectRoute;
      const bucket = decodeURIComponent(m[1]!);
      const objects = bucketOf(bucket);
      const name = decodeURIComponent(m[2]!);
      const obj = objects.get(name);
      const generation = query.get('generation');
      const found = obj && (generation === null || generation === obj.generation) ? obj : undefined;
      if (req.method === 'DELETE') {
        if (!found) throw new HttpError(404, `No such object: ${bucket}/${name}`, 'notFound');
        checkPreconditions(query, found);
        objects.delete(name);
        res.writeHead(204);
        return res.end();
      }
      if (req.method === 'GET') {
        if (!found) throw new HttpError(404, `No such object: ${bucket}/${name}`, 'notFound');
        checkPreconditions(query, found);
        if (query.get('alt') !== 'media') return json(200, resource(bucket, found));
        let data = found.data;
        let status = 200;
        const headers: Record<string, string> = {
          'content-type': found.contentType,
          'x-goog-hash': `crc32c=${found.crc32c},md5=${found.md5Hash}`,
          'x-goog-generation': found.generation,
          'x-goog-metageneration': '1',
          'x-goog-stored-content-length': String(found.data.length),
          'x-goog-stored-content-encoding': 'identity',
        };
        const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
        if (range) {
          const start = Number(range[1]);
          const end = range[2] ? Math.min(Number(range[2]), data.length - 1) : data.length - 1;
          if (start >= data.length && data.length > 0) {
            throw new HttpError(
              416,
              'The requested range cannot be satisfied.',
              'requestedRangeNotSatisfiable',
            );
          }
          headers['content-range'] = `bytes ${start}-${end}/${data.length}`;
          data = data.subarray(start, end + 1);
          status = 206;
        }
        headers['content-length'] = String(data.length);
        res.writeHead(status, headers);
        return res.end(data);
      }
    }
    if (bucketRoute && req.method === 'GET') {
      const m = bucketRoute;
      const name = decodeURIComponent(m[1]!);
      bucketOf(name);
      return json(200, { kind: 'storage#bucket', id: name, name, location: 'US', storageClass: 'STANDARD' });
    }
    throw new HttpError(
      501,
      `${req.method} ${url.pathname} is not implemented by the stand-in`,
      'notImplemented',
    );
  };

  const server = http.createServer((req, res) => {
    res.on('finish', () => requests.push(`${req.method} ${req.url} -> ${res.statusCode}`));
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => {});
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch((err: unknown) => {
        const e = err instanceof HttpError ? err : new HttpError(500, String(err), 'backendError');
        if (res.headersSent) return res.destroy();
        res.writeHead(e.status, { 'content-type': 'application/json; charset=UTF-8' });
        res.end(
          JSON.stringify({
            error: {
              code: e.status,
              message: e.message,
              errors: [{ message: e.message, domain: 'global', reason: e.reason }],
            },
          }),
        );
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    buckets,
    requests,
    openSessions: () => [...sessions.values()].filter((s) => !s.result).length,
    corrupt(bucket, name, mutate) {
      const o = bucketOf(bucket).get(name);
      if (!o) throw new Error(`no object ${bucket}/${name}`);
      o.data = mutate(Buffer.from(o.data));
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** multipart/related: a JSON metadata part, then the media part. */
function parseMultipart(
  contentType: string,
  body: Buffer,
): { meta: Record<string, unknown>; media: Buffer; mediaType: string } {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1];
  if (!/^multipart\/related/i.test(contentType) || !boundary) {
    throw new HttpError(
      400,
      'multipart upload needs Content-Type multipart/related with a boundary',
      'invalid',
    );
  }
  const delimiter = Buffer.from(`--${boundary}`);
  const first = body.indexOf(delimiter);
  const second = body.indexOf(delimiter, first + delimiter.length);
  const closing = body.lastIndexOf(Buffer.from(`\r\n--${boundary}--`));
  if (first < 0 || second < 0 || closing < second)
    throw new HttpError(400, 'malformed multipart body', 'invalid');
  const part = (start: number, end: number) => {
    const headerEnd = body.indexOf('\r\n\r\n', start);
    const headers = body.subarray(start, headerEnd).toString('utf8');
    return {
      type: /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1] ?? '',
      data: body.subarray(headerEnd + 4, end),
    };
  };
  const metaPart = part(first + delimiter.length, second - 2);
  const mediaPart = part(second + delimiter.length, closing);
  return {
    meta: JSON.parse(metaPart.data.toString('utf8') || '{}') as Record<string, unknown>,
    media: Buffer.from(mediaPart.data),
    mediaType: mediaPart.type || 'application/octet-stream',
  };
}
