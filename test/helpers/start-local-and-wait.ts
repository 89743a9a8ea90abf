// Starts a local throwaway server, prints how to reach it, and waits to be killed.
import { startLocalPostgres } from '../../src/engines/local.js';

const pg = await startLocalPostgres();
const { port, password } = pg.connection;
process.stdout.write(`${JSON.stringify({ port, password, dir: pg.workDir })}\n`);
setInterval(() => {}, 1000);
