export async function runAction(step: string): Promise<void> {
  throw new Error(`not implemented yet: ${step}`);
}
