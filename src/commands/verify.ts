import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  damagedReason,
  listBackups,
  newerDamaged,
  type Selection,
  selectBackup,
} from '../catalog/catalog.js';
import type { Manifest } from '../catalog/types.js';
import type { DecryptionKeys } from '../config.js';
import { claimTempDir } from '../engines/local.js';
import { registerTeardown } from '../engines/teardown.js';
import type { Logger } from '../log.js';
import { verifyParts } from '../parts/proofs.js';
import { listArchive, summariseToc } from '../postgres/restore.js';
import { resolvePgRestore } from '../postgres/tools.js';
import type { Storage } from '../storage/types.js';
import {
  describe,
  fetchVerifiedDump,
  fetchVerifiedGlobals,
  globalsObject,
  Phases,
  requireDecryptionKeys,
} from './fetch.js';

export interface VerifyConfig {
  storage: Storage;
  selection: Selection;
  keys: DecryptionKeys;
}

export interface VerifyCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface VerifyResult {
  backupId: string;
  ok: boolean;
  checks: VerifyCheck[];
  /** Entries per kind in the archive's table of contents. */
  toc?: Record<string, number>;
  phases: Record<string, number>;
}

/**
 * Verifies a stored backup without a database: the manifest agrees with the stored object
 * and its sidecar, the object's SHA-256 matches, decryption authenticates, and pg_restore
 * reads the archive, whose table of contents holds every table in the manifest.
 */
export async function runVerify(config: VerifyConfig, deps: { logger: Logger }): Promise<VerifyResult> {
  const { logger } = deps;
  const phases = new Phases();
  const entries = await listBackups(config.storage);
  const entry = selectBackup(entries, config.selection, config.storage.display);
  const manifest = entry.manifest as Manifest;
  requireDecryptionKeys(manifest, config.keys);
  const checks: VerifyCheck[] = [];
  const add = (name: string, ok: boolean, detail: string) => {
    checks.push({ name, ok, detail });
    if (ok) logger.info(`ok: ${name}: ${detail}`);
    else logger.error(`FAILED: ${name}: ${detail}`);
  };
  const latest =
    (!config.selection.name || config.selection.name === 'latest') &&
    !config.selection.before &&
    !config.selection.verifiedOnly;
  if (latest) {
    for (const d of newerDamaged(entries, entry)) add('no newer backup is damaged', false, damagedReason(d));
  }

  // The manifest is consistent with what is stored.
  const head = await config.storage.head(manifest.object.key);
  add(
    'stored object present with the manifest size',
    head?.size === manifest.object.bytes,
    head
      ? `${head.size} bytes stored, manifest says ${manifest.object.bytes}`
      : `${manifest.object.key} is missing`,
  );
  const work = mkdtempSync(join(tmpdir(), 'lms-verify-'));
  claimTempDir(work);
  const cleanup = registerTeardown(
    `verify work dir ${work}`,
    async () => rmSync(work, { recursive: true, force: true }),
    () => rmSync(work, { recursive: true, force: true }),
  );
  let toc: Record<string, number> | undefined;
  try {
    const fetched = await fetchVerifiedDump(config.storage, manifest, config.keys, work, phases, logger);
    add('sidecar agrees with the manifest', fetched.sidecar.ok, fetched.sidecar.detail);
    add(
      'stored SHA-256 matches the manifest',
      fetched.checksum.ok,
      fetched.checksum.ok
        ? manifest.object.sha256
        : fetched.reasons.filter((r) => r !== fetched.sidecar.detail).join('; '),
    );
    if (fetched.checksum.ok && fetched.sidecar.ok && manifest.encryption.scheme === 'age') {
      add(
        'decryption authenticates',
        fetched.decryption.ok,
        fetched.decryption.ok ? 'age, every chunk authenticated' : fetched.reasons.join('; '),
      );
    }
    if (fetched.dumpFile) {
      try {
        const pgRestore = await resolvePgRestore(manifest.tool.pgDumpVersion, { logger });
        const lines = await phases.time('list', () => listArchive(pgRestore, fetched.dumpFile!));
        toc = summariseToc(lines);
        add('pg_restore --list reads the archive', true, `${lines.length} entries`);
        const missing = manifest.inventory.tables.filter(
          (t) => !lines.some((l) => / TABLE /.test(l) && l.includes(` ${t.schema} ${t.name} `)),
        );
        add(
          'every manifest table is in the archive',
          missing.length === 0,
          missing.length
            ? `missing: ${missing.map((t) => `${t.schema}.${t.name}`).join(', ')}`
            : `${manifest.inventory.tableCount} tables`,
        );
      } catch (error) {
        add('pg_restore --list reads the archive', false, describe(error));
      }
    }
    // The files archive and the Redis snapshot, when the backup has them.
    for (const c of await verifyParts(config.storage, manifest, config.keys, work, logger))
      add(c.name, c.ok, c.detail);
  } finally {
    await cleanup.run();
  }
  // The roles and tablespaces: the second object of a manifest@2 backup.
  const g = globalsObject(manifest);
  if (g) {
    try {
      const fetched = await fetchVerifiedGlobals(config.storage, manifest, config.keys);
      add(
        'globals object checksum, sidecar and decryption',
        true,
        `${g.key}: ${fetched?.globals.roles.length ?? 0} roles, ${fetched?.globals.tablespaces.length ?? 0} tablespaces`,
      );
    } catch (error) {
      add('globals object checksum, sidecar and decryption', false, describe(error));
    }
  }

  const result: VerifyResult = {
    backupId: entry.id,
    ok: checks.every((c) => c.ok),
    checks,
    phases: phases.ms,
  };
  if (toc) result.toc = toc;
  return result;
}
