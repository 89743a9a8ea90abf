// Runs s3rver 3.7.1 in its own process (started by test/helpers/emulators.ts) with
// --openssl-legacy-provider: s3rver encrypts ListObjectsV2 continuation tokens with DES, which
// OpenSSL 3 only offers through the legacy provider (without it every truncated listing is a 500).
//
// In front of s3rver sit two small additions over s3rver's own filesystem store, because
// s3rver lacks them and our backend needs them (each is marked in the answer header
// x-stand-in: s3rver-shim):
//   - ListMultipartUploads (GET /<bucket>?uploads) and AbortMultipartUpload (DELETE with uploadId)
//   - optional (config.enforceIfNoneMatch): PutObject / CompleteMultipartUpload with
//     If-None-Match: * answer 412 when the key exists, as AWS S3 does. s3rver itself ignores it.
// Config: JSON in argv[2]: { directory, buckets: string[], enforceIfNoneMatch?: boolean }.
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import S3rver from 's3rver';

const config = JSON.parse(process.argv[2] ?? '{}');
const s3rver = new S3rver({
  silent: true,
  directory: config.directory,
  configureBuckets: (config.buckets ?? ['backups']).map((name) => ({ name, configs: [] })),
});
await s3rver.configureBuckets();
const app = s3rver.callback();
const store = s3rver.store;

const xmlEscape = (s) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
const uploadsDir = (bucket) => store.getResourcePath(bucket, undefined, 'uploads');

function send(res, status, xml) {
  res.writeHead(status, { 'content-type': 'application/xml', 'x-stand-in': 's3rver-shim' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
}
function s3Error(res, status, code, message) {
  send(res, status, `<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`);
}

async function listUploads(bucket, prefix) {
  const dir = uploadsDir(bucket);
  let ids = [];
  try {
    ids = await readdir(dir);
  } catch {
    return [];
  }
  const out = [];
  for (const id of ids) {
    try {
      const key = (await readFile(path.join(dir, id, 'key'))).toString();
      if (!key.startsWith(prefix)) continue;
      out.push({ key, id, initiated: (await stat(path.join(dir, id))).birthtime });
    } catch {
      // completed meanwhile
    }
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

async function objectExists(bucket, key) {
  try {
    await stat(store.getResourcePath(bucket, key, 'object'));
    return true;
  } catch {
    return false;
  }
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url ?? '/', 'http://s3rver');
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = rest.map(decodeURIComponent).join('/');
    const q = url.searchParams;
    if (req.method === 'GET' && bucket && !key && q.has('uploads')) {
      const uploads = await listUploads(bucket, q.get('prefix') ?? '');
      return send(
        res,
        200,
        `<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${xmlEscape(bucket)}</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>${uploads
          .map(
            (u) =>
              `<Upload><Key>${xmlEscape(u.key)}</Key><UploadId>${u.id}</UploadId><Initiated>${u.initiated.toISOString()}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`,
          )
          .join('')}</ListMultipartUploadsResult>`,
      );
    }
    if (req.method === 'DELETE' && key && q.has('uploadId')) {
      const dir = path.join(uploadsDir(bucket), q.get('uploadId') ?? '');
      try {
        await stat(dir);
      } catch {
        return s3Error(res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
      }
      await rm(dir, { recursive: true, force: true });
      res.writeHead(204, { 'x-stand-in': 's3rver-shim' });
      return res.end();
    }
    const conditionalWrite =
      config.enforceIfNoneMatch &&
      req.headers['if-none-match'] === '*' &&
      key &&
      ((req.method === 'PUT' && !q.has('uploadId') && !q.has('partNumber')) ||
        (req.method === 'POST' && q.has('uploadId')));
    if (conditionalWrite && (await objectExists(bucket, key))) {
      req.resume();
      return s3Error(
        res,
        412,
        'PreconditionFailed',
        'At least one of the pre-conditions you specified did not hold',
      );
    }
    return app(req, res);
  } catch (err) {
    if (!res.headersSent) s3Error(res, 500, 'InternalError', String(err));
  }
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
