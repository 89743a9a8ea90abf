import { createRequire as __lmsCreateRequire } from 'node:module';
import { fileURLToPath as __lmsFileURLToPath } from 'node:url';
import { dirname as __lmsDirname } from 'node:path';
var require = __lmsCreateRequire(import.meta.url);
var __filename = __lmsFileURLToPath(import.meta.url);
var __dirname = __lmsDirname(__filename);
import {
  removeLeftoverContainers
} from "./chunk-3AQC5SSN.js";
import {
  ACTION_STEPS,
  COMMAND_OPTIONS,
  OptionValues,
  Problems,
  assertRestoreOk,
  backupOutcome,
  backupPartRows,
  backupSettings,
  beginRun,
  checkSettings,
  claimTempDir,
  describeReplay,
  drillOutcome,
  drillSettings,
  endRunAbnormally,
  explainError,
  forgetOutcome,
  forgetSettings,
  formatBytes,
  formatDuration,
  formatPercent,
  loadConfigFile,
  mdEscape,
  pruneOutcome,
  pruneSettings,
  recorded,
  renderDrillReportMarkdown,
  renderForget,
  reportSettings,
  restoreOutcome,
  restorePartRows,
  restoreSettings,
  runBackup,
  runCheck,
  runDrill,
  runForget,
  runPrune,
  runReport,
  runRestore,
  runVerify,
  selectDatabases,
  specOf,
  splitItems,
  sweepDrillDebris,
  verifyOutcome,
  verifySettings
} from "./chunk-DB2JD23C.js";
import {
  dockerRunId,
  endProcess,
  isProcessAlive,
  isSecretParam,
  onSignal,
  redactUrl,
  redactValue,
  runAllTeardowns,
  safeDecode
} from "./chunk-FAY5UTZP.js";
import "./chunk-GOCCL7ZG.js";
import {
  debug,
  endGroup,
  error,
  getBooleanInput,
  getInput,
  getState,
  info,
  saveState,
  setFailed,
  setOutput,
  setSecret,
  startGroup,
  summary,
  warning
} from "./chunk-CJN5V7VQ.js";
import "./chunk-2QTBRAGA.js";
import {
  JobFailedError,
  describeError
} from "./chunk-KUC23OCA.js";
import "./chunk-6OU3VEHW.js";
import "./chunk-ZTERMN2E.js";

// src/action/io.ts
var coreIO = {
  getInput: (name) => getInput(name),
  getBooleanInput: (name) => getBooleanInput(name),
  setSecret: (value) => setSecret(value),
  setOutput: (name, value) => setOutput(name, value),
  saveState: (name, value) => saveState(name, value),
  getState: (name) => getState(name),
  debug: (m) => debug(m),
  info: (m) => info(m),
  warning: (m) => warning(m),
  error: (m) => error(m),
  startGroup: (t) => startGroup(t),
  endGroup: () => endGroup(),
  setFailed: (m) => setFailed(m),
  async appendSummary(markdown) {
    await summary.addRaw(markdown, true).write();
    summary.emptyBuffer();
  }
};

// src/action/logger.ts
function actionLogger(io, secrets) {
  let current;
  const clean = (m) => secrets.scrub(m);
  return {
    debug: (m) => io.debug(clean(m)),
    info: (m) => io.info(clean(m)),
    warn: (m) => io.warning(clean(m)),
    error: (m) => io.error(clean(m)),
    async group(title, fn) {
      const token = Symbol(title);
      if (current) io.endGroup();
      current = token;
      io.startGroup(clean(title));
      try {
        return await fn();
      } finally {
        if (current === token) {
          io.endGroup();
          current = void 0;
        }
      }
    }
  };
}

// src/action/secrets.ts
var SECRET_ENV = [
  "PGPASSWORD",
  "LMS_BACKUP_PASSPHRASE",
  "LMS_BACKUP_IDENTITY",
  "AZURE_STORAGE_KEY",
  "AZURE_STORAGE_SAS_TOKEN",
  "AZURE_STORAGE_CONNECTION_STRING",
  "AZURE_CLIENT_SECRET",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "LMS_BACKUP_WEBHOOK_AUTHORIZATION",
  // webhook URLs carry their token in the path
  "LMS_BACKUP_SLACK_WEBHOOK_URL",
  "LMS_BACKUP_TEAMS_WEBHOOK_URL",
  "LMS_BACKUP_WEBHOOK_URL",
  "LMS_BACKUP_HEARTBEAT_URL"
];
var MIN_SECRET_LENGTH = 4;
var Secrets = class {
  constructor(io) {
    this.io = io;
  }
  io;
  values = /* @__PURE__ */ new Set();
  /** Registers a secret (each line of a multi-line one too: the runner masks line by line). */
  add(value) {
    if (!value) return;
    const lines = value.split(/\r?\n/).map((l) => l.trim()).filter((l) => !l.startsWith("#"));
    const parts = [value, value.trim(), ...lines];
    for (const part of parts) {
      if (part.length < MIN_SECRET_LENGTH || this.values.has(part)) continue;
      this.values.add(part);
      this.io.setSecret(part);
    }
  }
  /** The password of a postgresql:// URL, raw and percent-decoded. */
  addConnectionUrl(url) {
    if (!url) return;
    const m = /^[a-z][a-z0-9+.-]*:\/\/[^/@?#]*?:([^@/?#]*)@/i.exec(url.trim());
    if (m?.[1]) {
      this.add(m[1]);
      this.add(safeDecode(m[1]));
    }
    try {
      const u = new URL(url.trim());
      for (const [k, v] of u.searchParams) if (isSecretParam(k)) this.add(v);
    } catch {
    }
  }
  /** SAS tokens and keys given in a destination URL's query. */
  addStorageLocation(location) {
    const q = location.indexOf("?");
    if (q < 0) return;
    const params = new URLSearchParams(location.slice(q + 1));
    let hasSas = false;
    for (const [k, v] of params) {
      if (isSecretParam(k)) {
        this.add(v);
        this.add(encodeURIComponent(v));
        if (k === "sig") hasSas = true;
      }
    }
    if (hasSas) this.add(location.slice(q + 1));
  }
  /** `AccountKey=…;SharedAccessSignature=…` parts of a connection string, and the whole. */
  addConnectionString(value) {
    if (!value) return;
    this.add(value);
    for (const part of value.split(";")) {
      const eq = part.indexOf("=");
      if (eq > 0 && isSecretParam(part.slice(0, eq).trim())) this.add(part.slice(eq + 1).trim());
    }
  }
  /** Every credential in the step's environment. */
  addFromEnv(env) {
    for (const name of SECRET_ENV) {
      const v = env[name];
      if (!v) continue;
      if (name === "AZURE_STORAGE_CONNECTION_STRING") this.addConnectionString(v);
      else this.add(v);
      if (name === "AZURE_STORAGE_SAS_TOKEN") this.add(v.trim().replace(/^\?/, ""));
    }
    for (const name of ["LMS_BACKUP_DATABASE_URL", "DATABASE_URL", "LMS_BACKUP_TARGET_URL"]) {
      this.addConnectionUrl(env[name]);
    }
  }
  /** Replaces every registered secret in `text` with ***. Longest first, so parts never leak. */
  scrub(text) {
    let out = text;
    for (const v of [...this.values].sort((a, b) => b.length - a.length)) out = redactValue(out, v);
    return out;
  }
};

// src/action/context.ts
function failureMessage(error2, secrets) {
  return secrets.scrub(redactUrl(describeError(error2)));
}
async function writeSummary(ctx, markdown) {
  try {
    await ctx.io.appendSummary(ctx.secrets.scrub(markdown));
  } catch (error2) {
    ctx.io.warning(
      `could not write the job summary: ${ctx.secrets.scrub(error2 instanceof Error ? error2.message : String(error2))}`
    );
  }
}
function runLink(env) {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repo, GITHUB_RUN_ID: run } = env;
  return server && repo && run ? `${server}/${repo}/actions/runs/${run}` : void 0;
}
function recordedRun(ctx, options, run, outcome) {
  const link = runLink(ctx.env);
  return recorded({ ...options, logger: ctx.logger, ...link ? { link } : {} }, run, outcome);
}

// src/action/inputs.ts
import { tmpdir } from "node:os";
import { join } from "node:path";
var STEP_INPUTS = Object.fromEntries(
  ACTION_STEPS.map((step) => [
    step,
    Object.fromEntries(COMMAND_OPTIONS[step].map((n) => [n, specOf(n).default]))
  ])
);
function stepValues(ctx, step, problems) {
  const direct = (name) => {
    const raw = ctx.io.getInput(name);
    if (specOf(name).secret) ctx.secrets.add(raw);
    if (!raw) return void 0;
    return { raw: specOf(name).kind === "list" ? splitItems(raw) : raw, name, origin: "input" };
  };
  const file = loadConfigFile(ctx.io.getInput("config") || void 0, problems);
  const [database] = selectDatabases(
    file,
    { database: ctx.io.getInput("database") || void 0, names: { database: "database" } },
    problems
  );
  return new OptionValues({
    command: step,
    direct,
    env: ctx.env,
    file,
    database,
    surface: "action",
    problems
  });
}
function settingsContext(ctx) {
  return { env: ctx.env, logger: ctx.logger, mask: ctx.secrets, requireConnection: true };
}
function parseBackupInputs(ctx) {
  return backupSettings(stepValues(ctx, "backup", new Problems()), settingsContext(ctx));
}
function parseDrillInputs(ctx, options) {
  return drillSettings(stepValues(ctx, "drill", new Problems()), settingsContext(ctx), options);
}
function defaultDrillReportDir(env) {
  return join(env.RUNNER_TEMP || tmpdir(), "lms-backup-drill-reports");
}
function parseVerifyInputs(ctx) {
  return verifySettings(stepValues(ctx, "verify", new Problems()), settingsContext(ctx));
}
function parseRestoreInputs(ctx) {
  return restoreSettings(stepValues(ctx, "restore", new Problems()), settingsContext(ctx));
}
function parseForgetInputs(ctx) {
  return forgetSettings(stepValues(ctx, "forget", new Problems()), settingsContext(ctx));
}
function parsePruneInputs(ctx) {
  return pruneSettings(stepValues(ctx, "prune", new Problems()), settingsContext(ctx));
}
async function parseReportInputs(ctx) {
  const s = await reportSettings(stepValues(ctx, "report", new Problems()), settingsContext(ctx));
  return { ...s, outDir: s.outDir ?? "" };
}
function parseCheckInputs(ctx) {
  return checkSettings(stepValues(ctx, "check", new Problems()), settingsContext(ctx));
}

// src/action/summary.ts
var OK = "\u2705";
var BAD = "\u274C";
var WARN = "\u26A0\uFE0F";
function code(s) {
  return `\`${s.replace(/`/g, "'").replace(/\r?\n/g, " ")}\``;
}
function table(head, rows) {
  return [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`)
  ].join("\n");
}
function failureSection(message) {
  const lines = message.split("\n");
  return ["", "```text", ...lines.map((l) => l.replace(/```/g, "'''")), "```", ""].join("\n");
}
function backupSummary(s) {
  const r = s.result;
  if (!r) {
    const out2 = ["## \u274C Backup failed", ""];
    if (s.displays.length) out2.push(`Destinations: ${s.displays.map(code).join(", ")}`, "");
    out2.push("Nothing was marked complete: a backup without a manifest is never offered for restore.");
    if (s.error) out2.push(failureSection(s.error));
    return `${out2.join("\n")}
`;
  }
  const m = r.manifest;
  const src = m.source;
  const encrypted = m.encryption.scheme === "age";
  const encryption = encrypted ? m.encryption.passphrase ? "age (passphrase)" : `age, ${m.encryption.recipients.length} recipient${m.encryption.recipients.length === 1 ? "" : "s"}` : `${WARN} not encrypted`;
  const phases = Object.entries(r.phases).map(([k, v]) => `${k.replace(/Ms$/, "")} ${formatDuration(v / 1e3)}`).join(", ");
  const rows = [
    [
      "Database",
      `${code(src.database)} on ${code(`${src.host}:${src.port}`)}, PostgreSQL ${mdEscape(src.serverVersion)}`
    ],
    [
      "Contents",
      `${m.inventory.tableCount} tables, ${m.inventory.totalRows.toLocaleString("en-US")} rows (exact, same snapshot as the dump)`
    ],
    [
      "Dump",
      `${formatBytes(m.dump.bytes)} (pg_dump ${mdEscape(m.tool.pgDumpVersion)}${m.tool.pgDump?.image ? ` in a container from ${mdEscape(m.tool.pgDump.image)}` : ""}, custom format, ${mdEscape(m.dump.compression)})`
    ],
    ["Stored", `${formatBytes(m.object.bytes)}, ${encryption}`],
    ...backupPartRows(m)
  ];
  const median = r.medianBytes;
  const sizeWarnings = r.warnings.filter((w) => /^The backup (shrank|grew)/.test(w));
  rows.push([
    "Size check",
    median === null ? "no earlier complete backups to compare with" : `${sizeWarnings.length ? WARN : OK} ${formatPercent(m.object.bytes / median)} of the median ${formatBytes(median)} of recent complete backups`
  ]);
  rows.push(
    ["SHA-256 (stored object)", code(m.object.sha256)],
    ["Duration", `${formatDuration(r.durationMs / 1e3)}${phases ? ` (${phases})` : ""}`]
  );
  const out = [
    `## ${r.warnings.length ? WARN : OK} Backup ${code(r.id)} complete`,
    "",
    table(["", ""], rows),
    "",
    ...r.warnings.length ? ["### Warnings", "", ...r.warnings.map((w) => `- ${WARN} ${mdEscape(w)}`), ""] : [],
    "### Stored in",
    "",
    ...r.stored.map(
      (x) => `- ${code(`${x.destination}/${x.key}`)} (+ ${code(".sha256")} sidecar, manifest written last)`
    ),
    ""
  ];
  return out.join("\n");
}
function drillSummary(s) {
  if (!s.report) {
    const out2 = ["## \u274C Restore drill did not run", ""];
    if (s.from) out2.push(`Backups: ${code(s.from)}`, "");
    if (s.error) out2.push(failureSection(s.error));
    return `${out2.join("\n")}
`;
  }
  const out = [s.markdown ?? renderDrillReportMarkdown(s.report)];
  if (s.artifact) out.push("", `Report uploaded as the artifact ${code(s.artifact)}.`, "");
  if (s.error) out.push(failureSection(s.error));
  return out.join("\n");
}
function pruneSummary(s) {
  const out = [`## ${s.error ? BAD : OK} Retention${s.dryRun ? " (dry run: nothing deleted)" : ""}`, ""];
  for (const { display, result } of s.results) {
    const { plan } = result;
    out.push(
      `### ${code(display)}: keeping ${plan.keep.length}, ${s.dryRun ? "would remove" : "removed"} ${plan.remove.length}`,
      ""
    );
    for (const w of plan.warnings) out.push(`- ${WARN} ${mdEscape(w)}`);
    if (plan.warnings.length) out.push("");
    const rows = [
      ...plan.remove.map((r) => [code(r.id), s.dryRun ? "would remove" : "removed", mdEscape(r.reason)]),
      ...plan.keep.map((k) => [code(k.id), "kept", mdEscape(k.reasons.join("; "))])
    ];
    out.push(rows.length ? table(["Backup", "Action", "Why"], rows) : "No backups.", "");
    const swept = (result.sweep ?? []).filter((item) => item.kind !== "incomplete backup");
    if (swept.length) {
      out.push(`Left behind by interrupted runs (${s.dryRun ? "would remove" : "removed"}):`, "");
      for (const item of swept) out.push(`- ${item.kind}: ${code(item.name)}`);
      out.push("");
    }
  }
  if (s.error) out.push(failureSection(s.error));
  return out.join("\n");
}
function reportSummary(s) {
  if (!s.result) {
    return `${["## \u274C DR readiness report failed", "", ...s.error ? [failureSection(s.error)] : []].join("\n")}
`;
  }
  const out = [s.result.markdown];
  if (s.result.failed.length) {
    out.push("", `**Watchdog:** ${BAD} tripped: ${s.result.failed.map(code).join(", ")}`, "");
  }
  if (s.artifact) out.push("", `Report files uploaded as the artifact ${code(s.artifact)}.`, "");
  if (s.error) out.push(failureSection(s.error));
  return out.join("\n");
}
function verifySummary(s) {
  const r = s.result;
  if (!r) {
    const out2 = ["## \u274C Verify did not run", ""];
    if (s.from) out2.push(`Backups: ${code(s.from)}`, "");
    if (s.error) out2.push(failureSection(s.error));
    return `${out2.join("\n")}
`;
  }
  const out = [
    `## ${r.ok ? `${OK} Backup ${code(r.backupId)} verified` : `${BAD} Backup ${code(r.backupId)} failed verification`}`,
    "",
    `No database needed: the stored object${s.from ? ` in ${code(s.from)}` : ""} was checked end to end.`,
    "",
    table(
      ["Check", "Result", "Detail"],
      r.checks.map((c) => [mdEscape(c.name), c.ok ? OK : BAD, mdEscape(c.detail)])
    ),
    ""
  ];
  if (r.toc) {
    out.push(
      `Archive contents: ${Object.entries(r.toc).map(([k, v]) => `${v} ${mdEscape(k)}`).join(", ")}.`,
      ""
    );
  }
  return out.join("\n");
}
function restoreSummary(s) {
  const r = s.result;
  if (!r) {
    return `${["## \u274C Restore failed", "", "Nothing was restored.", ...s.error ? [failureSection(s.error)] : []].join("\n")}
`;
  }
  const p = r.plan;
  const title = r.dryRun ? `\u{1F4CB} Restore plan for ${code(p.backupId)} (dry run: nothing changed)` : r.ok ? `${OK} Restored ${code(p.backupId)}` : `${BAD} Restore of ${code(p.backupId)} failed`;
  const rows = [
    [
      "Backup",
      `${code(p.backupId)}, taken ${mdEscape(p.backupTakenAt)} (${formatDuration(p.backupAgeSeconds)} before the restore), PostgreSQL ${mdEscape(p.backupServerVersion)}`
    ],
    ["Checksum / decryption", `${p.checksumOk ? OK : BAD} / ${p.decryptionOk ? OK : BAD}`],
    [
      "Target",
      `${code(p.target)}, PostgreSQL ${mdEscape(p.targetServerVersion)}; ${p.targetExists ? `${p.targetUserTables} table(s) before` : "did not exist"}`
    ],
    ["Versions", mdEscape(p.versionCheck)],
    ["Mode", `${p.mode}${p.sideDatabase ? ` into the side database ${code(p.sideDatabase)}` : ""}`],
    [
      "Archive",
      Object.entries(p.toc).map(([k, v]) => `${v} ${mdEscape(k)}`).join(", ")
    ]
  ];
  if (p.selectedTables) rows.push(["Tables", p.selectedTables.map(code).join(", ")]);
  rows.push([
    "Owners / privileges",
    `${p.owners ? "kept" : "not restored (no-owner)"} / ${p.privileges ? "kept" : "not restored (no-privileges)"}` + (p.missingRoles.length ? `; the target lacked ${p.missingRoles.map(code).join(", ")}` : "")
  ]);
  rows.push(...restorePartRows(r.parts));
  if (r.createdRoles?.length)
    rows.push(["Roles created", `${r.createdRoles.map(code).join(", ")} (NOLOGIN, no passwords)`]);
  if (r.safetyBackup)
    rows.push(["Safety backup", `${code(r.safetyBackup.id)} in ${code(r.safetyBackup.destination)}`]);
  if (r.validation) {
    const ok = r.validation.tables.filter((t) => t.ok).length;
    rows.push(["Validation", `${ok}/${r.validation.tables.length} tables with exact row counts`]);
  }
  if (r.objects) {
    const ok = r.objects.filter((o) => o.ok).length;
    rows.push(["Objects", `${ok}/${r.objects.length} owners, privileges, policies and other objects match`]);
  }
  if (r.erasures) {
    rows.push([
      "Erasures",
      `${r.erasures.replayed && r.erasures.keysStillPresent === 0 && r.erasures.violations.length === 0 ? OK : BAD} ${mdEscape(describeReplay(r.erasures))}`
    ]);
  }
  const out = [`## ${title}`, "", table(["", ""], rows), ""];
  if (r.reasons.length) out.push(...r.reasons.map((x) => `- ${BAD} ${mdEscape(x)}`), "");
  if (r.nextSteps.length) out.push("### Next steps", "", ...r.nextSteps.map((x) => `- ${mdEscape(x)}`), "");
  if (s.error) out.push(failureSection(s.error));
  return out.join("\n");
}
function checkSummary(s) {
  const r = s.report;
  if (!r) {
    const out2 = ["## \u274C Check did not run", ""];
    if (s.error) out2.push(failureSection(s.error));
    return `${out2.join("\n")}
`;
  }
  const out = [
    `## ${r.ok ? `${OK} Setup checked: every check passed` : `${BAD} Setup checked: ${r.failed} check(s) failed`}`,
    "",
    `${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped. Nothing was posted and no backup was touched.`,
    "",
    table(
      ["Check", "Result", "Detail", "Fix"],
      r.checks.map((c) => [
        mdEscape(c.name),
        c.skipped ? "\u2013" : c.ok ? OK : BAD,
        mdEscape(c.detail),
        c.fix && (!c.ok || c.skipped) ? mdEscape(c.fix) : ""
      ])
    ),
    ""
  ];
  return out.join("\n");
}

// src/action/steps/backup.ts
async function backupStep(ctx) {
  const { io, logger } = ctx;
  let displays = [];
  let result;
  let error2;
  try {
    const parsed = await parseBackupInputs(ctx);
    displays = parsed.displays;
    ({ result } = await recordedRun(
      ctx,
      { command: "backup", storages: parsed.config.destinations, notifiers: parsed.notifiers },
      () => runBackup(parsed.config, { logger, env: ctx.env }),
      backupOutcome
    ));
    const m = result.manifest;
    io.setOutput("backup-id", result.id);
    io.setOutput("object-key", m.object.key);
    io.setOutput("sha256", m.object.sha256);
    io.setOutput("bytes", String(m.object.bytes));
    io.setOutput("duration-seconds", String(Math.round(result.durationMs / 100) / 10));
    logger.info(
      `backup ${result.id} complete: ${m.inventory.tableCount} tables, ${m.inventory.totalRows} rows, ${m.object.bytes} bytes stored in ${displays.join(", ")}`
    );
  } catch (e) {
    error2 = failureMessage(e, ctx.secrets);
    throw e;
  } finally {
    await writeSummary(
      ctx,
      backupSummary({ ...result ? { result } : {}, displays, ...error2 ? { error: error2 } : {} })
    );
  }
}

// src/action/steps/check.ts
async function checkStep(ctx) {
  const { io, logger } = ctx;
  let report;
  let error2;
  try {
    const { config } = await parseCheckInputs(ctx);
    report = await logger.group("check the setup", () => runCheck(config, { logger, env: ctx.env }));
    for (const c of report.checks) {
      const line = `${c.skipped ? "\u2013" : c.ok ? "\u2713" : "\u2717"} ${c.name}: ${c.detail}`;
      if (c.ok) logger.info(line);
      else logger.error(`${line}${c.fix ? `
    fix: ${c.fix}` : ""}`);
    }
    const failed = report.checks.filter((c) => !c.ok);
    io.setOutput("ok", String(report.ok));
    io.setOutput("failed-checks", failed.map((c) => c.name).join("\n"));
    if (failed.length) {
      throw new JobFailedError(
        `${failed.length} check(s) failed:
${failed.map((c) => `  - ${c.name}: ${c.detail}${c.fix ? ` (fix: ${c.fix})` : ""}`).join("\n")}`
      );
    }
  } catch (e) {
    error2 = failureMessage(e, ctx.secrets);
    throw e;
  } finally {
    await writeSummary(ctx, checkSummary({ ...report ? { report } : {}, ...error2 ? { error: error2 } : {} }));
  }
}

// src/action/steps/drill.ts
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir as tmpdir2 } from "node:os";
import { join as join2 } from "node:path";

// src/action/artifact.ts
function canUploadArtifacts(env) {
  return Boolean(env.ACTIONS_RUNTIME_TOKEN && env.ACTIONS_RESULTS_URL);
}
function artifactName(base, env) {
  const attempt = Number(env.GITHUB_RUN_ATTEMPT ?? "1");
  const job = (env.GITHUB_JOB ?? "").replace(/[^A-Za-z0-9_.-]/g, "-");
  return [base, job, attempt > 1 ? `attempt-${attempt}` : ""].filter(Boolean).join("-");
}
async function uploadArtifact(name, files, rootDirectory, env, logger) {
  if (files.length === 0) return void 0;
  if (!canUploadArtifacts(env)) {
    logger.debug(
      "not running on a GitHub Actions runner (no ACTIONS_RUNTIME_TOKEN / ACTIONS_RESULTS_URL): artifact upload skipped"
    );
    return void 0;
  }
  try {
    const { DefaultArtifactClient } = await import("./artifact-FNOGXYFQ.js");
    const response = await new DefaultArtifactClient().uploadArtifact(name, files, rootDirectory, {});
    logger.info(`uploaded artifact ${name} (${response.size ?? "?"} bytes, id ${response.id ?? "?"})`);
    return name;
  } catch (error2) {
    logger.warn(
      `could not upload the artifact ${name}: ${error2 instanceof Error ? error2.message : String(error2)}`
    );
    return void 0;
  }
}

// src/action/steps/drill.ts
var DRILL_STATE = { workRoot: "work-root", runId: "run-id", engine: "engine" };
async function drillStep(ctx) {
  const { io, logger, env } = ctx;
  const defaultReportDir = defaultDrillReportDir(env);
  await sweepDrillDebris(tmpdir2(), logger).catch(() => []);
  const workRoot = mkdtempSync(join2(tmpdir2(), "lms-backup-drill-"));
  chmodSync(workRoot, 493);
  claimTempDir(workRoot);
  io.saveState(DRILL_STATE.workRoot, workRoot);
  env.LMS_BACKUP_RUN_ID ||= dockerRunId(env);
  io.saveState(DRILL_STATE.runId, env.LMS_BACKUP_RUN_ID);
  const engine = io.getInput("engine");
  io.saveState(DRILL_STATE.engine, engine === "local" || engine === "docker" ? engine : "auto");
  const previousTmp = env.TMPDIR;
  let from;
  let result;
  let artifact;
  let error2;
  try {
    const { config, uploadReport, notifiers } = await parseDrillInputs(ctx, { defaultReportDir });
    from = config.storage.display;
    env.TMPDIR = workRoot;
    ({ result } = await recordedRun(
      ctx,
      { command: "drill", storages: [config.storage], notifiers },
      () => runDrill(config, { logger }),
      drillOutcome
    ));
    const { report } = result;
    const reportPath = join2(config.localReportDir, `${report.id}.json`);
    io.setOutput("passed", String(report.verdict === "pass"));
    io.setOutput("verdict", report.verdict);
    io.setOutput("tables", String(report.tableCount.found ?? 0));
    io.setOutput("rows", String(report.tables.reduce((sum, t) => sum + (t.found ?? 0), 0)));
    io.setOutput("recovery-seconds", String(report.rto.measuredSeconds));
    io.setOutput("report-path", existsSync(reportPath) ? reportPath : "");
    for (const w of result.written) logger.info(`report: ${w}`);
    if (uploadReport) {
      const files = [reportPath, join2(config.localReportDir, `${report.id}.md`)].filter(
        (f) => existsSync(f)
      );
      artifact = await logger.group(
        "upload the drill report",
        () => uploadArtifact(
          artifactName(`lms-backup-${report.id}`, env),
          files,
          config.localReportDir,
          env,
          logger
        )
      );
    }
    if (report.verdict !== "pass") {
      throw new JobFailedError(
        `restore drill of ${report.backupId} ${report.verdict === "could-not-run" ? "could not run" : "failed"}:
${report.reasons.map((r) => `  - ${r}`).join("\n")}`,
        {
          hint: "the job summary and the drill report show every check; fix the cause and run the drill again"
        }
      );
    }
    logger.info(`restore drill of ${report.backupId} passed in ${report.rto.measuredSeconds} s`);
  } catch (e) {
    error2 = failureMessage(e, ctx.secrets);
    throw e;
  } finally {
    if (previousTmp === void 0) delete env.TMPDIR;
    else env.TMPDIR = previousTmp;
    await runAllTeardowns();
    rmSync(workRoot, { recursive: true, force: true });
    await writeSummary(
      ctx,
      drillSummary({
        ...result ? { report: result.report, markdown: result.markdown } : {},
        ...from ? { from } : {},
        ...artifact ? { artifact } : {},
        ...error2 && !result ? { error: error2 } : {}
      })
    );
  }
}

// src/action/steps/drill-post.ts
import { existsSync as existsSync2, readdirSync, readFileSync, rmSync as rmSync2 } from "node:fs";
import { join as join3 } from "node:path";
async function drillPostStep(ctx) {
  const { io, logger } = ctx;
  const workRoot = io.getState(DRILL_STATE.workRoot);
  const runId = io.getState(DRILL_STATE.runId);
  const engine = io.getState(DRILL_STATE.engine);
  if (!workRoot && !runId) {
    logger.debug("the drill step saved no state: nothing to tear down");
    return;
  }
  try {
    await runAllTeardowns();
    if (runId && engine !== "local") {
      try {
        const removed = await removeLeftoverContainers(runId);
        if (removed > 0) logger.info(`removed ${removed} throwaway container(s) the drill left behind`);
        else logger.debug(`no leftover containers for run ${runId}`);
      } catch (error2) {
        logger.debug(`no container clean-up: ${error2 instanceof Error ? error2.message : String(error2)}`);
      }
    }
    if (workRoot && existsSync2(workRoot)) {
      const stopped = await stopLeftoverLocalServers(workRoot, logger);
      if (stopped > 0) logger.info(`stopped ${stopped} throwaway PostgreSQL server(s) the drill left behind`);
      await sweepDrillDebris(workRoot, logger);
      rmSync2(workRoot, { recursive: true, force: true });
    }
  } catch (error2) {
    logger.warn(`clean-up after the drill: ${error2 instanceof Error ? error2.message : String(error2)}`);
  }
}
function postmasterOf(dataDir) {
  let pid;
  try {
    pid = Number(readFileSync(join3(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
  } catch {
    return void 0;
  }
  if (!Number.isInteger(pid) || pid <= 1 || !isProcessAlive(pid)) return void 0;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    if (!cmdline.includes(dataDir)) return void 0;
  } catch {
  }
  return pid;
}
async function stopLeftoverLocalServers(workRoot, logger) {
  let stopped = 0;
  for (const entry of readdirSync(workRoot)) {
    if (!entry.startsWith("lms-pg-")) continue;
    const dataDir = join3(workRoot, entry, "data");
    const pid = postmasterOf(dataDir);
    if (pid === void 0) continue;
    logger.info(`stopping the throwaway PostgreSQL in ${dataDir} (pid ${pid})`);
    try {
      process.kill(pid, "SIGQUIT");
    } catch {
      continue;
    }
    const deadline = Date.now() + 1e4;
    while (isProcessAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (isProcessAlive(pid)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
      }
    }
    stopped++;
  }
  return stopped;
}

// src/action/steps/forget.ts
async function forgetStep(ctx) {
  const { io, logger } = ctx;
  let result;
  let error2;
  try {
    const config = await parseForgetInputs(ctx);
    ({ result } = await recordedRun(
      ctx,
      { command: "forget", storages: config.destinations, notifiers: [] },
      () => runForget(config, { logger }),
      forgetOutcome
    ));
    io.setOutput("erasure-id", result.id);
    io.setOutput("keys", String(result.keys));
    io.setOutput(
      "rows-removed",
      result.applied ? String(result.applied.replay.rowsRemoved + result.applied.replay.cascadedRows) : ""
    );
    logger.info(renderForget(result).trimEnd());
    if (result.stored.length === 0) throw new JobFailedError("the erasure was stored in no destination");
  } catch (e) {
    error2 = failureMessage(e, ctx.secrets);
    throw e;
  } finally {
    const lines = result ? [
      `## \u2705 Erasure \`${result.id}\` recorded`,
      "",
      `${result.keys} key(s) of \`${result.table}\`, reference ${result.reference}, in ${result.stored.length} destination(s). Every restore and drill replays it.`,
      result.applied ? `Applied in the live database: ${result.applied.replay.rowsRemoved} row(s) removed, ${result.applied.replay.cascadedRows} more by cascade.` : "The live database was not touched (apply: false)."
    ] : ["## \u274C Forget failed", "", error2 ?? ""];
    await writeSummary(ctx, `${lines.join("\n")}
`);
  }
}

// src/action/steps/prune.ts
async function pruneStep(ctx) {
  const { io, logger } = ctx;
  const results = [];
  let dryRun = false;
  let error2;
  try {
    const parsed = await parsePruneInputs(ctx);
    dryRun = parsed.dryRun;
    const failures = [];
    for (const storage of parsed.storages) {
      try {
        const { result } = await recordedRun(
          ctx,
          { command: "prune", storages: [storage], notifiers: [] },
          () => runPrune({ storage, policy: parsed.policy, dryRun }, { logger }),
          (r) => pruneOutcome(r, dryRun)
        );
        results.push({ display: storage.display, result });
      } catch (e) {
        const message = failureMessage(e, ctx.secrets);
        logger.error(`prune ${storage.display}: ${message}`);
        failures.push(`${storage.display}: ${message}`);
      }
    }
    io.setOutput("removed", String(results.reduce((s, r) => s + r.result.plan.remove.length, 0)));
    io.setOutput("kept", String(results.reduce((s, r) => s + r.result.plan.keep.length, 0)));
    io.setOutput("deleted-objects", String(results.reduce((s, r) => s + r.result.deleted.length, 0)));
    if (failures.length) {
      throw new JobFailedError(
        `prune failed for ${failures.length} of ${parsed.storages.length} destination(s):
${failures.map((f) => `  - ${f}`).join("\n")}`
      );
    }
  } catch (e) {
    error2 = failureMessage(e, ctx.secrets);
    throw e;
  } finally {
    await writeSummary(ctx, pruneSummary({ results, dryRun, ...error2 ? { error: error2 } : {} }));
  }
}

// src/action/steps/report.ts
import { dirname } from "node:path";
async function reportStep(ctx) {
  const { io, logger, env } = ctx;
  let result;
  let artifact;
  let error2;
  try {
    const p = await parseReportInputs(ctx);
    result = await runReport(
      {
        storages: p.storages,
        windowDays: p.windowDays,
        outDir: p.outDir,
        formats: p.formats,
        failOn: p.failOn,
        rpoSeconds: p.rpoSeconds,
        rtoSeconds: p.rtoSeconds,
        keepDays: p.keepDays,
        retention: p.retention
      },
      { logger }
    );
    io.setOutput("status", result.readiness.status);
    io.setOutput("failed-conditions", result.failed.join(","));
    io.setOutput("report-dir", result.files.length ? p.outDir : "");
    io.setOutput("html-path", result.htmlPath ?? "");
    if (p.uploadReport && result.files.length) {
      artifact = await logger.group(
        "upload the readiness report",
        () => uploadArtifact(
          artifactName("lms-backup-readiness", env),
          result.files,
          dirname(result.files[0]),
          env,
          logger
        )
      );
    }
    if (result.failed.length) {
      throw new JobFailedError(
        `DR readiness watchdog: ${result.failed.map((c) => `${c} (${result.readiness.conditions[c].message})`).join("; ")}`,
        {
          hint: "the job summary shows the readiness report; fix the cause (a backup or drill that failed or stopped)"
        }
      );
    }
  } catch (e) {
    error2 = failureMessage(e, ctx.secrets);
    throw e;
  } finally {
    await writeSummary(
      ctx,
      reportSummary({
        ...result ? { result } : {},
        ...artifact ? { artifact } : {},
        ...error2 && !result ? { error: error2 } : {}
      })
    );
  }
}

// src/action/steps/restore.ts
async function restoreStep(ctx) {
  const { io, logger } = ctx;
  let result;
  let error2;
  try {
    const config = await parseRestoreInputs(ctx);
    ({ result } = await recordedRun(
      ctx,
      { command: "restore", storages: [config.storage], notifiers: [] },
      () => runRestore(config, { logger }),
      restoreOutcome
    ));
    io.setOutput("ok", String(result.ok));
    io.setOutput("backup-id", result.plan.backupId);
    io.setOutput("restored", String(result.restored));
    io.setOutput("mode", result.plan.mode);
    io.setOutput("side-database", result.plan.sideDatabase ?? "");
    io.setOutput("safety-backup-id", result.safetyBackup?.id ?? "");
    for (const step of result.nextSteps) logger.info(`next: ${step}`);
    assertRestoreOk(result);
  } catch (e) {
    error2 = failureMessage(e, ctx.secrets);
    throw e;
  } finally {
    await writeSummary(ctx, restoreSummary({ ...result ? { result } : {}, ...error2 ? { error: error2 } : {} }));
  }
}

// src/action/steps/verify.ts
async function verifyStep(ctx) {
  const { io, logger } = ctx;
  let result;
  let from;
  let error2;
  try {
    const config = await parseVerifyInputs(ctx);
    from = config.storage.display;
    ({ result } = await recordedRun(
      ctx,
      { command: "verify", storages: [config.storage], notifiers: [] },
      () => runVerify(config, { logger }),
      verifyOutcome
    ));
    io.setOutput("ok", String(result.ok));
    io.setOutput("backup-id", result.backupId);
    if (!result.ok) {
      throw new JobFailedError(
        `verify of ${result.backupId} failed:
${result.checks.filter((c) => !c.ok).map((c) => `  - ${c.name}: ${c.detail}`).join("\n")}`,
        {
          hint: "the stored backup cannot be trusted: drill or restore an older one, and find out what changed it"
        }
      );
    }
  } catch (e) {
    error2 = failureMessage(e, ctx.secrets);
    throw e;
  } finally {
    await writeSummary(
      ctx,
      verifySummary({
        ...result ? { result } : {},
        ...from ? { from } : {},
        ...error2 ? { error: error2 } : {}
      })
    );
  }
}

// src/action/main.ts
var STEPS = {
  backup: backupStep,
  drill: drillStep,
  "drill-post": drillPostStep,
  prune: pruneStep,
  report: reportStep,
  verify: verifyStep,
  restore: restoreStep,
  check: checkStep,
  forget: forgetStep
};
async function runStep(step, io = coreIO, env = process.env) {
  const secrets = new Secrets(io);
  const logger = actionLogger(io, secrets);
  try {
    dropEmptySettings(env);
    secrets.addFromEnv(env);
    const run = STEPS[step];
    if (!run) throw new Error(`unknown action step "${step}" (known: ${Object.keys(STEPS).join(", ")})`);
    if (RECORDED_STEPS.has(step)) beginRun(step, logger);
    await run({ io, secrets, logger, env });
    return 0;
  } catch (error2) {
    const explained = explainError(error2, `action step ${step}`, { ...process.env, ...env });
    const message = secrets.scrub(redactUrl(explained.message));
    await endRunAbnormally(message);
    io.setFailed(message);
    return 1;
  }
}
function dropEmptySettings(env) {
  for (const [name, value] of Object.entries(env)) {
    if (value === "" && SETTING_ENV.test(name)) delete env[name];
  }
}
var SETTING_ENV = /^(?:PG[A-Z]+|LMS_BACKUP_[A-Z_]+|AWS_[A-Z0-9_]+|AZURE_[A-Z_]+|GOOGLE_[A-Z_]+|DATABASE_URL|STORAGE_EMULATOR_HOST)$/;
var RECORDED_STEPS = /* @__PURE__ */ new Set([
  "backup",
  "drill",
  "verify",
  "restore",
  "prune",
  "forget"
]);
async function runAction(step) {
  onSignal((signal) => endRunAbnormally(`cancelled (${signal})`, 1e4));
  const code2 = await runStep(step);
  endProcess(code2);
}
export {
  STEPS,
  dropEmptySettings,
  runAction,
  runStep
};
