import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { readObjectText } from '../catalog/runs.js';
import type { BackupObject, Manifest } from '../catalog/types.js';
import { type OuterCompression, parseOuter, unzstdBuffer } from '../compress/zstd.js';
import type { DecryptionKeys } from '../config.js';
import { createAgeDecryptStream } from '../crypto/age.js';
import { parseSha256Sidecar } from '../crypto/hash.js';
import { ChecksumMismatchError, ConfigError, JobFailedError, LmsError } from '../errors.js';
import type { Logger } from '../log.js';
import { writeDataOffsets } from '../postgres/archive-offsets.js';
import { type Globals, parseGlobalsSql } from '../postgres/globals.js';
import { resumingGet } from '../storage/resume.js';
import type { Storage } from '../storage/types.js';
import { fetchInOnePass } from './fetch-pass.js';

export class Phases {
  readonly ms: Record<string, number> = {};
  async time<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t = Date.now();
    try {
      return await fn();
    } finally {
      this.ms[name] = (this.ms[name] ?? 0) + Date.now() - t;
    }
  }
}

export interface Fetched {
  /** The object's `.sha256` sidecar agrees with the manifest (name and digest). */
  sidecar: { ok: boolean; detail: string };
  checksum: { expected: string; actual: string | null; ok: boolean };
  decryption: { ok: boolean; error?: string };
  /** The verified plaintext dump, when every step passed. */
  dumpFile?: string;
  /** Why it failed, for a person. */
  reasons: string[];
}

export function describe(error: unknown): string {
  if (error instanceof LmsError) return error.message;
  return error instanceof Error ? error.message : String(error);
}

/** An encrypted backup and no key to open it: a configuration problem, found before downloading. */
export class MissingIdentityError extends ConfigError {}

/**
 * Throws MissingIdentityError when the backup is age-encrypted and no identity or passphrase
 * was given. Called before anything is downloaded.
 */
export function requireDecryptionKeys(manifest: Manifest, keys: DecryptionKeys): void {
  if (manifest.encryption.scheme !== 'age') return;
  if (keys.identities.length > 0 || keys.passphrase) return;
  const passphraseOnly = manifest.encryption.passphrase && manifest.encryption.recipients.length === 0;
  throw new MissingIdentityError(
    passphraseOnly
      ? `backup ${manifest.id} is encrypted with an age passphrase, and no passphrase was given`
      : `backup ${manifest.id} is age-encrypted, and no identity (private key) was given to decrypt it`,
    {
      hint: passphraseOnly
        ? 'set LMS_BACKUP_PASSPHRASE (action input: passphrase)'
        : 'pass --identity-file <file> or set LMS_BACKUP_IDENTITY to the AGE-SECRET-KEY-1… line ' +
          '(action input: identity); it is the identity whose recipient the backup was encrypted to',
    },
  );
}

/** Reads the object's `.sha256` sidecar and compares it with the manifest (docs/storage-layout.md). */
export async function checkSidecar(
  storage: Storage,
  object: { key: string; sidecarKey: string; sha256: string },
): Promise<{ ok: boolean; detail: string }> {
  const { key, sidecarKey, sha256 } = object;
  try {
    const sidecar = parseSha256Sidecar(await readObjectText(storage, sidecarKey));
    const name = key.split('/').pop();
    if (sidecar.sha256.toLowerCase() !== sha256)
      return {
        ok: false,
        detail: `the checksum sidecar ${sidecarKey} says ${sidecar.sha256}; the manifest says ${sha256}`,
      };
    if (sidecar.fileName !== name)
      return {
        ok: false,
        detail: `the checksum sidecar ${sidecarKey} names "${sidecar.fileName}", not ${name}`,
      };
    return { ok: true, detail: `${sidecarKey}: ${sha256.slice(0, 16)}… ${name}` };
  } catch (error) {
    return { ok: false, detail: `cannot read the checksum sidecar ${sidecarKey}: ${describe(error)}` };
  }
}

/** The dump object's outer compression (manifest field), or undefined for none. */
export function dumpOuterCompression(manifest: Manifest): OuterCompression | undefined {
  const obj = manifest.objects?.find((o) => o.role === 'dump');
  return parseOuter(obj?.compression ?? manifest.dump.outerCompression);
}

/**
 * Downloads a backup's stored object, checks its size and SHA-256 against the manifest, decrypts
 * it (authenticated) and, when it has an outer zstd, decompresses it, all in one pass
 * (fetch-pass.ts), into `work/dump`: the file appears only when every check passed. Nothing
 * unverified is ever handed on: dumpFile is set only on success. The phase `download` is the
 * pass, `decrypt` the part of it after the last stored byte arrived.
 */
export async function fetchVerifiedDump(
  storage: Storage,
  manifest: Manifest,
  keys: DecryptionKeys,
  work: string,
  phases: Phases,
  logger: Logger,
): Promise<Fetched> {
  requireDecryptionKeys(manifest, keys);
  const reasons: string[] = [];
  const out: Fetched = {
    sidecar: { ok: false, detail: '' },
    checksum: { expected: manifest.object.sha256, actual: null, ok: false },
    decryption: { ok: false },
    reasons,
  };
  out.sidecar = await checkSidecar(storage, manifest.object);
  if (!out.sidecar.ok) reasons.push(out.sidecar.detail);
  let outer: OuterCompression | undefined;
  try {
    outer = dumpOuterCompression(manifest);
  } catch (error) {
    reasons.push(describe(error));
    return out;
  }
  const encrypted = manifest.encryption.scheme === 'age';
  const dumpFile = join(work, 'dump');
  const what = [encrypted ? 'decrypt (authenticated)' : '', outer ? 'decompress (zstd -d)' : '']
    .filter(Boolean)
    .join(', ');
  const started = Date.now();
  const r = await logger.group(
    `download ${manifest.object.key}, verify its checksum${what ? `, ${what}` : ''} (one pass)`,
    () =>
      fetchInOnePass(
        () => resumingGet(storage, manifest.object.key, { logger, size: manifest.object.bytes }),
        dumpFile,
        { ...(encrypted ? { keys } : {}), zstd: outer !== undefined },
        (x) =>
          out.sidecar.ok &&
          !x.readError &&
          x.stored.bytes === manifest.object.bytes &&
          x.stored.sha256 === manifest.object.sha256 &&
          !x.decryptError &&
          !x.decompressError &&
          x.plain?.sha256 === manifest.dump.sha256,
      ),
  );
  const ended = Date.now();
  phases.ms.download = (phases.ms.download ?? 0) + (r.readEndedAt || ended) - started;
  phases.ms.decrypt = (phases.ms.decrypt ?? 0) + ended - (r.readEndedAt || ended);
  if (r.readError) {
    reasons.push(`cannot read ${manifest.object.key} from ${storage.display}: ${describe(r.readError)}`);
    return out;
  }
  out.checksum.actual = r.stored.sha256;
  out.checksum.ok = r.stored.sha256 === manifest.object.sha256 && r.stored.bytes === manifest.object.bytes;
  if (!out.checksum.ok) {
    reasons.push(
      `checksum mismatch: the stored object ${manifest.object.key} (${r.stored.bytes} bytes) has SHA-256 ` +
        `${r.stored.sha256}; the manifest says ${manifest.object.sha256} (${manifest.object.bytes} bytes)`,
    );
  }
  // Nothing is handed on unless the sidecar agrees too: `sha256sum -c` is the runbook's first step.
  if (!out.checksum.ok || !out.sidecar.ok) return out;
  if (r.decryptError) {
    out.decryption.error = describe(r.decryptError);
    reasons.push(`decryption failed: ${describe(r.decryptError)}`);
    return out;
  }
  if (r.plain && r.plain.sha256 !== manifest.dump.sha256) {
    reasons.push(
      `the decrypted dump's SHA-256 ${r.plain.sha256} differs from the manifest's ${manifest.dump.sha256}`,
    );
    return out;
  }
  out.decryption.ok = true;
  if (r.decompressError) {
    reasons.push(`decompression (zstd -d) of the decrypted dump failed: ${describe(r.decompressError)}`);
    return out;
  }
  if (r.accepted) out.dumpFile = dumpFile;
  else reasons.push('the dump could not be written to the work directory');
  return out;
}

/**
 * Writes the data offsets into the verified dump (postgres/archive-offsets.ts) before a restore
 * of `jobs` parallel jobs: pg_dump wrote into a pipe and could not, and without them every
 * parallel pg_restore worker reads its way through the data blocks to the one it came for. One
 * job reads the archive in order anyway, so it gets none (the walk would be a read for nothing).
 * Best effort: an archive it does not read stays as it is. The phase is `offsets`.
 */
export async function writeDumpOffsets(
  dumpFile: string,
  jobs: number,
  phases: Phases,
  logger: Logger,
): Promise<void> {
  if (jobs < 2) return;
  const r = await phases.time('offsets', () =>
    writeDataOffsets(dumpFile).catch((error: unknown) => ({
      written: false as const,
      reason: describe(error),
    })),
  );
  if (!r.written) {
    logger.info(
      `the archive's data offsets were left unset (${r.reason}): pg_restore seeks its data the slow way`,
    );
  } else if (r.set > 0) {
    logger.debug(`wrote the data offsets of ${r.set} archive entries (pg_dump wrote into a pipe)`);
  }
}

/** The manifest's entry for the globals object (manifest@2), if the backup has one. */
export function globalsObject(manifest: Manifest): BackupObject | undefined {
  return manifest.objects?.find((o) => o.role === 'globals');
}

/**
 * Downloads, checks (stored size and SHA-256, then the plaintext's) and decrypts a backup's
 * globals object. Throws with the reason when any check fails; undefined when the backup has
 * no globals (manifest@1).
 */
export async function fetchVerifiedGlobals(
  storage: Storage,
  manifest: Manifest,
  keys: DecryptionKeys,
): Promise<{ text: string; globals: Globals } | undefined> {
  const obj = globalsObject(manifest);
  if (!obj) return undefined;
  const sidecar = await checkSidecar(storage, obj);
  if (!sidecar.ok) throw new ChecksumMismatchError(sidecar.detail);
  const stored = await readObjectBuffer(storage, obj.key, 64 * 1024 * 1024);
  const sha = createHash('sha256').update(stored).digest('hex');
  if (sha !== obj.sha256 || stored.length !== obj.bytes) {
    throw new ChecksumMismatchError(
      `checksum mismatch: the stored globals ${obj.key} (${stored.length} bytes) has SHA-256 ${sha}; the manifest says ${obj.sha256} (${obj.bytes} bytes)`,
    );
  }
  let plain = stored;
  if (manifest.encryption.scheme === 'age') {
    const chunks: Buffer[] = [];
    const dec = createAgeDecryptStream(keys);
    dec.on('data', (c: Buffer) => chunks.push(c));
    await pipeline(Readable.from([stored]), dec);
    plain = Buffer.concat(chunks);
  }
  const plainSha = createHash('sha256').update(plain).digest('hex');
  if (plainSha !== obj.plainSha256) {
    throw new ChecksumMismatchError(
      `the decrypted globals' SHA-256 ${plainSha} differs from the manifest's ${obj.plainSha256}`,
    );
  }
  // An object with an outer zstd (the plaintext digest covers the zstd stream).
  if (parseOuter(obj.compression)) plain = await unzstdBuffer(plain);
  const text = plain.toString('utf8');
  return { text, globals: parseGlobalsSql(text) };
}

async function readObjectBuffer(storage: Storage, key: string, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of await storage.get(key)) {
    n += (c as Buffer).length;
    if (n > limit) throw new JobFailedError(`${key} is larger than ${limit} bytes: not a globals object`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
