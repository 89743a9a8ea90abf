/**
 * Server settings for a throwaway PostgreSQL that exists to take one restore (a drill): with
 * wal_level minimal, pg_restore's parallel COPY into a table it just created (its TRUNCATE in the
 * same transaction) writes no WAL; a large max_wal_size and a long checkpoint timeout keep
 * checkpoints out of the load; autovacuum stays off while it runs (the counts are exact either
 * way); index builds get more sort memory, the foreign-key checks more hash memory. Nothing
 * here survives the drill.
 */
export function restoreTuningArgs(): string[] {
  const settings = [
    'wal_level=minimal',
    'max_wal_senders=0',
    'archive_mode=off',
    'max_wal_size=8GB',
    'checkpoint_timeout=1h',
    'autovacuum=off',
    'maintenance_work_mem=256MB',
    // The foreign keys' validation joins hash in memory instead of spilling to disk in batches.
    'work_mem=64MB',
    'max_parallel_maintenance_workers=0',
    'wal_buffers=16MB',
  ];
  return settings.flatMap((s) => ['-c', s]);
}
