import { describeError, exitCodeOf } from '../errors.js';

export async function runCli(argv: string[]): Promise<void> {
  try {
    throw new Error(`not implemented yet: ${argv.join(' ')}`);
  } catch (error) {
    process.stderr.write(`lms-backup: ${describeError(error)}\n`);
    process.exit(exitCodeOf(error));
  }
}
