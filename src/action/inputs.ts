/**
 * Action inputs → the commands' typed configurations, through the one options spec
 * (src/options/spec.ts): every input a step reads is declared there with the default its
 * action.yml states (a test keeps the two equal), and the config file named by the `config`
 * input (else ./lms-backup.yml when present) supplies any input not given. Secrets are masked
 * the moment they are read; every problem is collected and reported together, once.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Problems } from '../config.js';
import type { Logger } from '../log.js';
import { splitItems } from '../options/parse.js';
import {
  type BackupSettings,
  backupSettings,
  checkSettings,
  type DrillSettings,
  drillSettings,
  forgetSettings,
  type PruneSettings,
  pruneSettings,
  type ReportSettings,
  reportSettings,
  restoreSettings,
  type SettingsContext,
  verifySettings,
} from '../options/settings.js';
import { ACTION_STEPS, type ActionStep, COMMAND_OPTIONS, type OptionName, specOf } from '../options/spec.js';
import { loadConfigFile, OptionValues, selectDatabases } from '../options/values.js';
import type { ActionIO } from './io.js';
import type { Secrets } from './secrets.js';

export type InputStep = ActionStep;

/** Every input of every step, with the default its action.yml declares ('' = none). */
export const STEP_INPUTS = Object.fromEntries(
  ACTION_STEPS.map((step) => [
    step,
    Object.fromEntries(COMMAND_OPTIONS[step].map((n: OptionName) => [n, specOf(n).default])),
  ]),
) as Record<InputStep, Record<string, string>>;

/** Every output of every step (the action.yml files declare exactly these). */
export const STEP_OUTPUTS = {
  backup: ['backup-id', 'object-key', 'sha256', 'bytes', 'duration-seconds'],
  drill: ['passed', 'verdict', 'tables', 'rows', 'recovery-seconds', 'report-path'],
  verify: ['ok', 'backup-id'],
  restore: ['ok', 'backup-id', 'restored', 'mode', 'side-database', 'safety-backup-id'],
  prune: ['removed', 'kept', 'deleted-objects'],
  report: ['status', 'failed-conditions', 'report-dir', 'html-path'],
  check: ['ok', 'failed-checks'],
  forget: ['erasure-id', 'keys', 'rows-removed'],
} as const satisfies Record<InputStep, readonly string[]>;

/** Items separated by newlines or commas; blank items and surrounding spaces dropped. */
export const splitLines = splitItems;

export interface ParseContext {
  io: ActionIO;
  secrets: Secrets;
  logger: Logger;
  env: NodeJS.ProcessEnv;
}

/** One step's inputs, resolved with the config file; secret inputs masked before anything else. */
export function stepValues(ctx: ParseContext, step: InputStep, problems: Problems): OptionValues {
  const direct = (name: OptionName) => {
    const raw = ctx.io.getInput(name);
    if (specOf(name).secret) ctx.secrets.add(raw);
    if (!raw) return undefined;
    return { raw: specOf(name).kind === 'list' ? splitItems(raw) : raw, name, origin: 'input' as const };
  };
  const file = loadConfigFile(ctx.io.getInput('config') || undefined, problems);
  const [database] = selectDatabases(
    file,
    { database: ctx.io.getInput('database') || undefined, names: { database: 'database' } },
    problems,
  );
  return new OptionValues({
    command: step,
    direct,
    env: ctx.env,
    file,
    database,
    surface: 'action',
    problems,
  });
}

function settingsContext(ctx: ParseContext): SettingsContext {
  return { env: ctx.env, logger: ctx.logger, mask: ctx.secrets, requireConnection: true };
}

export type BackupInputs = BackupSettings;
export type DrillInputs = DrillSettings;
export type PruneInputs = PruneSettings;
export type ReportInputs = ReportSettings & { outDir: string };

export function parseBackupInputs(ctx: ParseContext): Promise<BackupInputs> {
  return backupSettings(stepValues(ctx, 'backup', new Problems()), settingsContext(ctx));
}

export function parseDrillInputs(
  ctx: ParseContext,
  options: { defaultReportDir: string },
): Promise<DrillInputs> {
  return drillSettings(stepValues(ctx, 'drill', new Problems()), settingsContext(ctx), options);
}

/** Where drill reports go when report-dir is not set: the runner's temp directory. */
export function defaultDrillReportDir(env: NodeJS.ProcessEnv): string {
  return join(env.RUNNER_TEMP || tmpdir(), 'lms-backup-drill-reports');
}

export function parseVerifyInputs(ctx: ParseContext) {
  return verifySettings(stepValues(ctx, 'verify', new Problems()), settingsContext(ctx));
}

export function parseRestoreInputs(ctx: ParseContext) {
  return restoreSettings(stepValues(ctx, 'restore', new Problems()), settingsContext(ctx));
}

export function parseForgetInputs(ctx: ParseContext) {
  return forgetSettings(stepValues(ctx, 'forget', new Problems()), settingsContext(ctx));
}

export function parsePruneInputs(ctx: ParseContext): Promise<PruneInputs> {
  return pruneSettings(stepValues(ctx, 'prune', new Problems()), settingsContext(ctx));
}

export async function parseReportInputs(ctx: ParseContext): Promise<ReportInputs> {
  const s = await reportSettings(stepValues(ctx, 'report', new Problems()), settingsContext(ctx));
  // output-dir has a default in the action, so it is always set here.
  return { ...s, outDir: s.outDir ?? '' };
}

export function parseCheckInputs(ctx: ParseContext) {
  return checkSettings(stepValues(ctx, 'check', new Problems()), settingsContext(ctx));
}
