import { it } from 'vitest';
import { startSourceDb, tempDir } from '/work/main/test/helpers/pg.js';
import { runDistStep } from '/work/main/test/action/helpers.js';
import { generateIdentity } from '/work/main/src/crypto/age.js';
const tap = (name: string) => (c: any) => { c.stdout!.on('data', (d: any) => process.stdout.write(`[${name}] ${d}`)); c.stderr!.on('data', (d: any) => process.stdout.write(`[${name}-err] ${d}`)); };
it('dbg', async () => {
  const src = await startSourceDb(1);
  const keys = generateIdentity();
  const ws = tempDir().path;
  const url = `postgresql://postgres:${encodeURIComponent(src.conn.password!)}@127.0.0.1:${src.conn.port}/lms`;
  const t = Date.now();
  const b = await runDistStep(process.execPath, 'backup', { cwd: ws, inputs: { 'database-url': url, recipients: keys.recipient } });
  console.log('backup', b.code, Date.now() - t, b.stderr);
  const b2 = await runDistStep(process.execPath, 'backup', { cwd: ws, inputs: { 'database-url': url, recipients: keys.recipient }, onSpawn: tap('b2') });
  console.log('backup2', b2.code, Date.now() - t, b2.stderr);
  const d = await runDistStep(process.execPath, 'drill', { cwd: ws, inputs: { identity: keys.identity, engine: 'local', backup: b.outputs['backup-id']! }, onSpawn: tap('drill') });
  console.log('drill', d.code, Date.now() - t);
  await src.stop();
}, 120000);
