import type { ActionIO } from '../../src/action/io.js';

/** An ActionIO that records everything, for in-process tests of the adapter. */
export class FakeIO implements ActionIO {
  readonly inputs: Record<string, string>;
  readonly masked: string[] = [];
  readonly outputs: Record<string, string> = {};
  readonly state: Record<string, string> = {};
  readonly log: string[] = [];
  readonly summaries: string[] = [];
  failed: string | undefined;
  summaryFails = false;

  constructor(inputs: Record<string, string> = {}, state: Record<string, string> = {}) {
    this.inputs = inputs;
    Object.assign(this.state, state);
  }
  getInput(name: string): string {
    return (this.inputs[name] ?? '').trim();
  }
  getBooleanInput(name: string): boolean {
    const v = this.getInput(name);
    if (['true', 'True', 'TRUE'].includes(v)) return true;
    if (['false', 'False', 'FALSE'].includes(v)) return false;
    throw new TypeError(`Input does not meet YAML 1.2 "Core Schema" specification: ${name}`);
  }
  setSecret(value: string): void {
    this.masked.push(value);
  }
  setOutput(name: string, value: string): void {
    this.outputs[name] = value;
  }
  saveState(name: string, value: string): void {
    this.state[name] = value;
  }
  getState(name: string): string {
    return this.state[name] ?? '';
  }
  debug(m: string): void {
    this.log.push(`debug: ${m}`);
  }
  info(m: string): void {
    this.log.push(`info: ${m}`);
  }
  warning(m: string): void {
    this.log.push(`warning: ${m}`);
  }
  error(m: string): void {
    this.log.push(`error: ${m}`);
  }
  startGroup(t: string): void {
    this.log.push(`group: ${t}`);
  }
  endGroup(): void {
    this.log.push('endgroup');
  }
  setFailed(m: string): void {
    this.failed = m;
  }
  async appendSummary(markdown: string): Promise<void> {
    if (this.summaryFails) throw new Error('Unable to find environment variable for $GITHUB_STEP_SUMMARY');
    this.summaries.push(markdown);
  }
  text(): string {
    return [...this.log, this.failed ?? '', ...this.summaries, JSON.stringify(this.outputs)].join('\n');
  }
}
