// The engine bundle: every entry point in dist/ imports from here.

export { runAction } from './action/main.js';
export { runCli } from './cli/main.js';
