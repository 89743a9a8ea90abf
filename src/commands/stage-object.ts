/**
 * One stored object, made in one pass: a plaintext payload (pg_dump's stdout, a file archive, a
 * snapshot…) → optional zstd outside it → SHA-256 of the plaintext → age → SHA-256 of the stored
 * bytes → a staged file (created only if absent, 0600, fsynced). Every object of a backup goes
 * through here; the manifest records what each digest covers (docs/storage-layout.md):
 *
 * - `sha256`/`bytes`: the stored bytes (what the `.sha256` sidecar says, `sha256sum -c` checks);
 * - `plainSha256`/`plainBytes`: what age encrypted, i.e. what `age -d` gives back: the zstd
 *   stream when the object has an outer `compression`, else the payload itself.
 */
import { rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { outerLabel, startZstdCompress, type ZstdEngine } from '../compress/zstd.js';
import { createAgeEncryptStream } from '../crypto/age.js';
import { Sha256Meter } from '../crypto/hash.js';
import { createDurableFile } from '../durable-file.js';
import { registerTeardown, type TeardownHandle } from '../engines/teardown.js';
import type { FsCall } from '../files.js';
import type { StagingDir } from '../storage/staging.js';
import type { FileWitness } from '../storage/types.js';

export type ObjectEncryption = { mode: 'age'; recipients: string[]; passphrase?: string } | { mode: 'none' };

/** Where the payload comes from: a stream and, for a process, its exit and a way to stop it. */
export interface PayloadSource {
  readonly stdout: Readable;
  /** A FIFO the payload comes out of: the zstd binary reads it there itself, leaving `stdout` unread. */
  fifo?: string;
  /** Resolves when the producer finished cleanly (pg_dump exited 0); rejects otherwise. */
  done?: Promise<void>;
  kill?: () => void;
}

export interface StageObjectOptions {
  payload: PayloadSource;
  /** Transforms of the payload before it is hashed (the files archive's gzip). */
  before?: Transform[];
  /** zstd outside the payload, on its own core; absent: the payload is encrypted as it is. */
  compression?: { engine: ZstdEngine; level: number };
  encryption: ObjectEncryption;
  /** The staged file; it must not exist yet. */
  path: string;
  /** Runs each file-system call on the staged file (the staging directory's watch bounds them). */
  io?: FsCall;
}

export interface StagedObject {
  path: string;
  /** Stored bytes and their SHA-256. */
  bytes: number;
  sha256: string;
  /** The staged file as it was when hashed (see PutSource.witness). */
  witness: FileWitness;
  /** What age encrypted (what `age -d` gives back) and its SHA-256. */
  plainBytes: number;
  plainSha256: string;
  /** The outer compression label (`zstd:1`), when there is one. */
  compression?: string;
}

export interface StagingObject {
  /** Plaintext bytes so far (for progress). */
  readonly plainBytes: number;
  /** Stored bytes so far. */
  readonly storedBytes: number;
  readonly done: Promise<StagedObject>;
}

/**
 * Removes the staged file `path` (named `name` in logs) however the run ends: within the
 * staging directory's watch, and at exit only where that directory still answers (nothing can
 * be bounded there: a hung directory is left as it is, for the next backup's sweep).
 */
export function registerStagedFile(name: string, path: string, staging: StagingDir): TeardownHandle {
  const { watch } = staging;
  return registerTeardown(
    name,
    () => watch.run('unlink', 'put', undefined, () => rm(path, { force: true })),
    () => {
      if (!watch.isHung) rmSync(path, { force: true });
    },
  );
}

export function stageObject(options: StageObjectOptions): StagingObject {
  const plain = new Sha256Meter();
  const stages: Transform[] = [...(options.before ?? []), plain];
  if (options.encryption.mode === 'age') {
    const { recipients, passphrase } = options.encryption;
    stages.push(createAgeEncryptStream(passphrase ? { passphrase } : { recipients }));
  }
  const { payload } = options;
  const engine = options.compression?.engine;
  // The zstd binary reads a FIFO there itself; anything else reads the payload's stream.
  const compressor = engine
    ? startZstdCompress(
        engine,
        payload.fifo && engine.kind === 'binary' ? payload.fifo : payload.stdout,
        options.compression!.level,
      )
    : undefined;
  const source = compressor ? compressor.stdout : payload.stdout;
  const stopAll = () => {
    payload.kill?.();
    compressor?.kill();
  };
  const out = createDurableFile(options.path, options.io ? { io: options.io } : {});
  const done = (async (): Promise<StagedObject> => {
    const piped = pipeline([source, ...stages, out]);
    // A producer that dies may still leave a cleanly ending stream: its exit status decides.
    const waits: Promise<void>[] = [
      piped.catch((error: unknown) => {
        stopAll();
        throw error;
      }),
    ];
    for (const p of [payload.done, compressor?.done]) {
      if (p)
        waits.push(
          p.catch((error: unknown) => {
            stopAll();
            throw error;
          }),
        );
    }
    await Promise.all(waits);
    return {
      path: options.path,
      bytes: out.bytes,
      sha256: out.digest(),
      witness: out.witness,
      plainBytes: plain.bytes,
      plainSha256: plain.digest(),
      ...(options.compression
        ? { compression: outerLabel({ method: 'zstd', level: options.compression.level }) }
        : {}),
    };
  })();
  return {
    get plainBytes() {
      return plain.bytes;
    },
    get storedBytes() {
      return out.bytes;
    },
    done,
  };
}
