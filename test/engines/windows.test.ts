/**
 * Windows semantics on a Linux machine (no Windows runs the suite): the platform and the file
 * system are injected (a ToolHost whose paths use node:path win32), so what is checked is the
 * logic that differs by platform, not Windows itself. The README's Windows table says so.
 */
import { win32 } from 'node:path';
import { describe, expect, it } from 'vitest';
import { signalExitCode, teardownSignals } from '../../src/engines/teardown.js';
import { findServerBinaries, type ToolHost, type ToolInfo, toolFileName } from '../../src/postgres/tools.js';

function windowsHost(files: Record<string, string>): ToolHost {
  return {
    platform: 'win32',
    exists: (p) => p in files,
    readdir: (dir) => {
      const prefix = dir.endsWith('\\') ? dir : `${dir}\\`;
      return [
        ...new Set(
          Object.keys(files)
            .filter((f) => f.startsWith(prefix))
            .map((f) => f.slice(prefix.length).split('\\')[0]!),
        ),
      ];
    },
    version: async (p): Promise<ToolInfo | null> =>
      files[p] ? { path: p, version: files[p]!, major: Number(files[p]!.split('.')[0]) } : null,
  };
}

const bin = (root: string, major: number, tool: string) =>
  win32.join(root, 'PostgreSQL', String(major), 'bin', toolFileName(tool, 'win32'));

describe('the local drill engine on Windows', () => {
  it('finds initdb.exe, pg_ctl.exe and postgres.exe under Program Files, newest major first', async () => {
    const files: Record<string, string> = {};
    for (const major of [15, 17]) {
      for (const t of ['initdb', 'pg_ctl', 'postgres'])
        files[bin('C:\\Program Files', major, t)] = `${major}.2`;
    }
    // A major with only the client installed is no server.
    files[bin('C:\\Program Files', 16, 'pg_dump')] = '16.4';
    const found = await findServerBinaries(
      { Path: 'C:\\Windows\\system32', ProgramFiles: 'C:\\Program Files' },
      windowsHost(files),
    );
    expect(found.map((b) => [b.binDir, b.major])).toEqual([
      ['C:\\Program Files\\PostgreSQL\\17\\bin', 17],
      ['C:\\Program Files\\PostgreSQL\\15\\bin', 15],
    ]);
  });

  it('takes PG_BINDIR first and reads Path with ";" (a D:\\ install)', async () => {
    const files: Record<string, string> = {};
    for (const t of ['initdb', 'pg_ctl', 'postgres']) {
      files[`D:\\pg18\\bin\\${t}.exe`] = '18.1';
      files[`E:\\tools\\pgsql\\bin\\${t}.exe`] = '16.3';
    }
    const found = await findServerBinaries(
      { PG_BINDIR: 'D:\\pg18\\bin', Path: 'C:\\Windows;E:\\tools\\pgsql\\bin' },
      windowsHost(files),
    );
    expect(found.map((b) => b.binDir)).toEqual(['D:\\pg18\\bin', 'E:\\tools\\pgsql\\bin']);
  });

  it('binaries without .exe are not Windows binaries', async () => {
    const files: Record<string, string> = {};
    for (const t of ['initdb', 'pg_ctl', 'postgres']) files[`D:\\pg\\bin\\${t}`] = '17.0';
    expect(await findServerBinaries({ PG_BINDIR: 'D:\\pg\\bin' }, windowsHost(files))).toEqual([]);
  });
});

describe('signals that tear down', () => {
  it('on Windows include Ctrl+Break (SIGBREAK); elsewhere SIGINT, SIGTERM and SIGHUP', () => {
    expect(teardownSignals('win32')).toEqual(['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK']);
    expect(teardownSignals('linux')).toEqual(['SIGINT', 'SIGTERM', 'SIGHUP']);
    expect(teardownSignals('darwin')).not.toContain('SIGBREAK');
  });

  it('exit with 128 + the signal number, as shells and Task Scheduler report it', () => {
    expect(
      ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'].map((s) => signalExitCode(s as NodeJS.Signals)),
    ).toEqual([130, 143, 129, 149]);
  });
});
