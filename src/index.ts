// The engine bundle: every entry point in dist/ imports from here. Each face loads lazily, so
// the CLI does not evaluate the GitHub toolkit and the action does not evaluate commander.
export async function runCli(argv: string[]): Promise<void> {
  const { runCli: run } = await import('./cli/main.js');
  return run(argv);
}

export async function runAction(step: string): Promise<void> {
  const { runAction: run } = await import('./action/main.js');
  return run(step);
}
