import { describe, expect, it } from 'vitest';
import { type ListRow, renderListTable, runList } from '../../src/commands/list.js';
import { MemoryLogger } from '../../src/log.js';
import { MemoryStorage } from '../helpers/memory-storage.js';
import { seedBackup, seedDrill } from '../prune/fixtures.js';

describe('runList', () => {
  it('lists every backup newest first with its state, size, encryption and inventory', async () => {
    const storage = new MemoryStorage();
    seedBackup(storage, 'lms_20240101_020000', new Date('2024-01-01T02:00:05Z'), {
      dumpBytes: 1000,
      tables: 12,
      rows: 123456,
    });
    seedBackup(storage, 'lms_20240102_020000', new Date('2024-01-02T02:00:05Z'), {
      encrypted: false,
      dumpBytes: 2000,
    });
    seedBackup(storage, 'lms_20240103_020000', new Date('2024-01-03T02:00:05Z'));
    seedBackup(storage, 'lms_20240104_020000', new Date('2024-01-04T02:00:00Z'), {
      complete: false,
      dumpBytes: 50,
    });
    // The newest drill of a backup decides its state: failed then passed reads "drill passed".
    seedDrill(
      storage,
      'drill_20240102_030000',
      'lms_20240101_020000',
      'fail',
      new Date('2024-01-02T03:10:00Z'),
    );
    seedDrill(
      storage,
      'drill_20240103_030000',
      'lms_20240101_020000',
      'pass',
      new Date('2024-01-03T03:10:00Z'),
    );
    seedDrill(
      storage,
      'drill_20240104_030000',
      'lms_20240103_020000',
      'fail',
      new Date('2024-01-04T03:10:00Z'),
    );
    // Not a backup: ignored.
    storage.seed('db/README.txt', 'hello');

    const rows = await runList({ storage }, { logger: new MemoryLogger() });

    // Every stored object of the backup counts: dump, sidecar and manifest.
    const storedBytes = (id: string) =>
      [...storage.objects]
        .filter(([key]) => key.startsWith(`db/${id}.`))
        .reduce((sum, [, o]) => sum + o.data.length, 0);
    expect(storedBytes('lms_20240104_020000')).toBe(50 + 95); // dump + "<64 hex>  <name>\n"
    expect(rows).toEqual<ListRow[]>([
      {
        id: 'lms_20240104_020000',
        time: '2024-01-04T02:00:00.000Z',
        bytes: storedBytes('lms_20240104_020000'),
        state: 'incomplete',
        encrypted: true,
      },
      {
        id: 'lms_20240103_020000',
        time: '2024-01-03T02:00:05.000Z',
        bytes: storedBytes('lms_20240103_020000'),
        state: 'drill failed',
        encrypted: true,
        tables: 8,
        rows: 1000,
      },
      {
        id: 'lms_20240102_020000',
        time: '2024-01-02T02:00:05.000Z',
        bytes: storedBytes('lms_20240102_020000'),
        state: 'complete',
        encrypted: false,
        tables: 8,
        rows: 1000,
      },
      {
        id: 'lms_20240101_020000',
        time: '2024-01-01T02:00:05.000Z',
        bytes: storedBytes('lms_20240101_020000'),
        state: 'drill passed',
        encrypted: true,
        tables: 12,
        rows: 123456,
      },
    ]);
    // `list --json` prints exactly these rows.
    expect(JSON.parse(JSON.stringify(rows))).toEqual(rows);
  });

  it('an empty destination lists nothing', async () => {
    expect(await runList({ storage: new MemoryStorage() }, { logger: new MemoryLogger() })).toEqual([]);
  });

  it('changes nothing in storage', async () => {
    const storage = new MemoryStorage();
    seedBackup(storage, 'lms_20240101_020000', new Date('2024-01-01T02:00:00Z'));
    await runList({ storage }, { logger: new MemoryLogger() });
    expect(storage.calls.put + storage.calls.delete).toBe(0);
  });
});

describe('renderListTable', () => {
  const rows: ListRow[] = [
    {
      id: 'lms_20240104_020000',
      time: '2024-01-04T02:00:00.000Z',
      bytes: 512,
      state: 'incomplete',
      encrypted: true,
    },
    {
      id: 'lms_20240103_020000_2',
      time: '2024-01-03T02:00:05.000Z',
      bytes: 1_572_864,
      state: 'drill failed',
      encrypted: true,
      tables: 8,
      rows: 1000,
    },
    {
      id: 'lms_20240101_020000',
      time: '2024-01-01T02:00:05.000Z',
      bytes: 5 * 1024 ** 3,
      state: 'drill passed',
      encrypted: false,
      tables: 112,
      rows: 12_345_678,
    },
  ];

  it('renders an aligned table with human sizes and a summary', () => {
    expect(renderListTable(rows)).toBe(
      [
        'BACKUP                 TIME (UTC)               SIZE  STATE         ENCRYPTED  TABLES        ROWS',
        'lms_20240104_020000    2024-01-04 02:00:00     512 B  incomplete    yes             -           -',
        'lms_20240103_020000_2  2024-01-03 02:00:05  1.50 MiB  drill failed  yes             8       1,000',
        'lms_20240101_020000    2024-01-01 02:00:05  5.00 GiB  drill passed  no            112  12,345,678',
        '',
        '3 backups, 5.00 GiB: 2 complete (1 drill passed, 1 drill failed), 1 incomplete',
        '',
      ].join('\n'),
    );
  });

  it('every line of the table has its columns at the same offsets', () => {
    const lines = renderListTable(rows).split('\n').slice(0, 4);
    const stateAt = lines[0]!.indexOf('STATE');
    for (const line of lines.slice(1)) expect(line.slice(stateAt)).toMatch(/^(incomplete|drill)/);
  });

  it('says so when there are no backups', () => {
    expect(renderListTable([])).toBe('no backups\n');
  });
});
