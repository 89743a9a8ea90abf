import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A real compose project on the local images (docker-compose v1, the one installed here), whose
 * database services publish no port: the host cannot reach them except through compose.
 */
export interface ComposeProject {
  dir: string;
  file: string;
  name: string;
  password: string;
  /** `docker-compose -f <file> -p <name> …` */
  compose(args: string[], options?: { input?: string }): Promise<{ stdout: string; stderr: string }>;
  /** psql inside a service (as its POSTGRES_USER), one value back. */
  psql(service: string, database: string, sql: string): Promise<string>;
  down(): Promise<void>;
}

export async function composeAvailable(): Promise<boolean> {
  try {
    await run('docker-compose', ['version'], { timeout: 30_000 });
    await run('docker', ['image', 'inspect', 'lms-backup/postgres:17'], { timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

/** `yaml` is the compose file's text with {password} standing for the project's random password. */
export async function startComposeProject(
  yaml: string,
  services: string[],
  ready: string[],
  user = 'shop',
): Promise<ComposeProject> {
  const dir = mkdtempSync(join(tmpdir(), 'lms-compose-'));
  const file = join(dir, 'docker-compose.yml');
  const password = randomBytes(12).toString('hex');
  writeFileSync(file, yaml.split('{password}').join(password));
  const name = `lmstest${randomBytes(4).toString('hex')}`;
  const compose = async (args: string[]) =>
    run('docker-compose', ['-f', file, '-p', name, ...args], {
      timeout: 180_000,
      maxBuffer: 64 * 1024 * 1024,
    });
  const project: ComposeProject = {
    dir,
    file,
    name,
    password,
    compose,
    psql: async (service, database, sql) =>
      (
        await compose(['exec', '-T', service, 'psql', '-U', user, '-d', database, '-XAtqc', sql])
      ).stdout.trim(),
    down: async () => {
      await compose(['down', '-v', '--remove-orphans']).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await compose(['up', '-d', ...services]);
    // Ready when the real server answers on TCP inside (the setup server listens on no port).
    for (const service of ready) {
      const deadline = Date.now() + 120_000;
      for (;;) {
        const ok = await compose(['exec', '-T', service, 'pg_isready', '-h', '127.0.0.1', '-q']).then(
          () => true,
          () => false,
        );
        if (ok) break;
        if (Date.now() > deadline) throw new Error(`compose service ${service} did not become ready`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  } catch (error) {
    await project.down();
    throw error;
  }
  return project;
}
