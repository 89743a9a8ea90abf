/**
 * The files part of a backup, end to end: archive (backup), check against the index (verify),
 * extract and compare (drill), extract into a chosen directory (restore).
 */
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import type { FilesManifest, Manifest } from '../catalog/types.js';
import type { EncryptionConfig } from '../commands/backup.js';
import { describe } from '../commands/fetch.js';
import type { DecryptionKeys } from '../config.js';
import { ConfigError } from '../errors.js';
import { archiveFiles, emptySummary } from '../files/archive.js';
import {
  type ArchiveCheck,
  checkArchive,
  compareTree,
  extractArchive,
  isEmptyDir,
} from '../files/extract.js';
import type { Logger } from '../log.js';
import type { StagingDir } from '../storage/staging.js';
import type { Storage } from '../storage/types.js';
import { downloadPart, openPlain, partObject, plainMismatch, type StagedPart, stagePart } from './object.js';

export interface FilesConfig {
  /** Absolute paths, checked (checkRoots) before the dump. */
  roots: string[];
  excludes: string[];
}

/** gzip level 6: the zlib default, and what `gzip` does. */
const GZIP_LEVEL = 6;

export async function stageFiles(
  config: FilesConfig,
  encryption: EncryptionConfig,
  stagingDir: StagingDir,
  logger: Logger,
  now: () => Date,
): Promise<{ staged: StagedPart; manifest: FilesManifest; warnings: string[] }> {
  const takenAt = now().toISOString();
  const summary = emptySummary(config.roots, config.excludes);
  const gzip: Transform = createGzip({ level: GZIP_LEVEL });
  const staged = await stagePart(
    'files',
    Readable.from(archiveFiles(config.roots, config.excludes, summary), { objectMode: false }),
    [gzip],
    encryption,
    stagingDir,
  );
  const warnings: string[] = [];
  for (const s of summary.skipped) logger.info(`files: ${s.path} ${s.reason}`);
  for (const c of summary.changed) {
    const w = `files: ${c.path} changed while it was read: ${c.detail}`;
    logger.warn(w);
    warnings.push(w);
  }
  logger.info(
    `files: ${summary.files} files, ${summary.entries} entries, ${summary.bytes} bytes archived (stored ${staged.source.size})`,
  );
  return {
    staged,
    manifest: {
      format: 'tar',
      compression: 'gzip',
      takenAt,
      roots: summary.roots,
      excludes: summary.excludes,
      entries: summary.entries,
      files: summary.files,
      bytes: summary.bytes,
      index: summary.index,
      skipped: summary.skipped,
      changed: summary.changed,
    },
    warnings,
  };
}

export interface FilesProof {
  ok: boolean;
  /** One line for a report. */
  detail: string;
  problems: string[];
  entries: number;
  filesOk: number;
}

/**
 * Downloads the files object, checks it, decrypts and decompresses it as a stream and hands the
 * tar stream to `consume`. The checks that fail are the problems; nothing is thrown.
 */
async function readFilesPart(
  storage: Storage,
  manifest: Manifest,
  keys: DecryptionKeys,
  work: string,
  logger: Logger,
  consume: (tar: AsyncIterable<Buffer>) => Promise<ArchiveCheck>,
  /** Files expected (a restore of part of the archive: those under its path). */
  expectedFiles?: number,
): Promise<FilesProof> {
  const obj = partObject(manifest, 'files');
  const files = manifest.files;
  if (!obj || !files) {
    return {
      ok: false,
      detail: 'the backup has no files part',
      problems: ['no files part'],
      entries: 0,
      filesOk: 0,
    };
  }
  const dl = await downloadPart(storage, obj, work, logger);
  if (!dl.file) return summarise(dl.reasons, 0, 0, files);
  const { stages, plain } = openPlain(dl.file, manifest, keys);
  let check: ArchiveCheck | undefined;
  const problems: string[] = [];
  try {
    await pipeline([
      ...stages,
      createGunzip(),
      async (tar: AsyncIterable<Buffer>) => {
        check = await consume(tar);
      },
    ] as unknown as NodeJS.ReadWriteStream[]);
    const mismatch = plainMismatch(obj, plain);
    if (mismatch) problems.push(mismatch);
  } catch (error) {
    problems.push(`the files archive cannot be read: ${describe(error)}`);
  }
  if (check) problems.push(...check.problems);
  return summarise(problems, check?.entries ?? 0, check?.filesOk ?? 0, files, expectedFiles);
}

function summarise(
  problems: string[],
  entries: number,
  filesOk: number,
  files: FilesManifest,
  expectedFiles = files.files,
): FilesProof {
  const ok = problems.length === 0;
  return {
    ok,
    detail: ok
      ? `${entries} entries read, ${filesOk} of ${expectedFiles} files with the indexed SHA-256`
      : `${problems.length} problem(s): ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? '; …' : ''}`,
    problems,
    entries,
    filesOk,
  };
}

/** verify: every file's digest from the archive against the index. */
export function verifyFilesPart(
  storage: Storage,
  manifest: Manifest,
  keys: DecryptionKeys,
  work: string,
  logger: Logger,
): Promise<FilesProof> {
  return readFilesPart(storage, manifest, keys, work, logger, (tar) =>
    checkArchive(tar, manifest.files!.index),
  );
}

/** drill: extract into `dir`, then hash what is on disk against the index. */
export async function drillFilesPart(
  storage: Storage,
  manifest: Manifest,
  keys: DecryptionKeys,
  work: string,
  dir: string,
  logger: Logger,
): Promise<FilesProof> {
  const extracted = await readFilesPart(storage, manifest, keys, work, logger, (tar) =>
    extractArchive(tar, manifest.files!.index, dir),
  );
  if (!extracted.ok) return extracted;
  const tree = await compareTree(dir, manifest.files!.index);
  return summarise(tree.problems, extracted.entries, tree.filesOk, manifest.files!);
}

/** A restore would overwrite what is in the directory (exit 2, nothing written). */
export class FilesTargetNotEmptyError extends ConfigError {}

/** restore --files-to: refuses a non-empty directory unless `confirm` names it. */
export async function restoreFilesPart(
  storage: Storage,
  manifest: Manifest,
  keys: DecryptionKeys,
  work: string,
  options: { dir: string; prefix?: string; confirm?: string; resolvedDir: string },
  logger: Logger,
): Promise<FilesProof> {
  const prefix = options.prefix?.replace(/^\/+/, '').replace(/\/+$/, '');
  if (prefix && !manifest.files?.index.some((e) => e.path === prefix || e.path.startsWith(`${prefix}/`))) {
    throw new ConfigError(`files-path ${options.prefix}: no entry of backup ${manifest.id} is under it`, {
      hint: `give a path the backup holds, e.g. ${manifest.files?.roots[0] ?? '/etc/nginx'} (lms-backup list shows the backup)`,
    });
  }
  const empty = await isEmptyDir(options.resolvedDir);
  const confirmed =
    options.confirm !== undefined && [options.dir, options.resolvedDir].includes(options.confirm);
  if (!empty && !confirmed) {
    throw new FilesTargetNotEmptyError(
      `files-to ${options.dir} is not empty: restoring would overwrite what is there`,
      {
        hint: `give an empty directory, or --confirm ${options.dir} to replace the files the backup holds there`,
      },
    );
  }
  const index = manifest.files!.index.filter(
    (e) => !prefix || e.path === prefix || e.path.startsWith(`${prefix}/`),
  );
  return readFilesPart(
    storage,
    manifest,
    keys,
    work,
    logger,
    async (tar) => {
      const r = await extractArchive(tar, index, options.resolvedDir, {
        ...(prefix ? { prefix } : {}),
        overwrite: !empty,
      });
      logger.info(`files: ${r.written} entries written under ${r.dir}`);
      return r;
    },
    index.filter((e) => e.type === 'file').length,
  );
}
