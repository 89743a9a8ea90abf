/**
 * The one place that talks to @actions/core. Everything else in src/action takes an ActionIO,
 * so steps run against a fake in tests and against the runner's file commands in dist.
 */
import * as core from '@actions/core';

export interface ActionIO {
  /** The raw input as the runner passes it (INPUT_<NAME>), trimmed; '' when absent. */
  getInput(name: string): string;
  /** YAML 1.2 core-schema booleans only (true/True/TRUE/false/…); throws a TypeError on anything else. */
  getBooleanInput(name: string): boolean;
  setSecret(value: string): void;
  setOutput(name: string, value: string): void;
  saveState(name: string, value: string): void;
  getState(name: string): string;
  debug(message: string): void;
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  startGroup(title: string): void;
  endGroup(): void;
  setFailed(message: string): void;
  /** Appends Markdown to the job summary (GITHUB_STEP_SUMMARY); throws when there is none. */
  appendSummary(markdown: string): Promise<void>;
}

export const coreIO: ActionIO = {
  getInput: (name) => core.getInput(name),
  getBooleanInput: (name) => core.getBooleanInput(name),
  setSecret: (value) => core.setSecret(value),
  setOutput: (name, value) => core.setOutput(name, value),
  saveState: (name, value) => core.saveState(name, value),
  getState: (name) => core.getState(name),
  debug: (m) => core.debug(m),
  info: (m) => core.info(m),
  warning: (m) => core.warning(m),
  error: (m) => core.error(m),
  startGroup: (t) => core.startGroup(t),
  endGroup: () => core.endGroup(),
  setFailed: (m) => core.setFailed(m),
  async appendSummary(markdown) {
    await core.summary.addRaw(markdown, true).write();
    core.summary.emptyBuffer();
  },
};
