// Node 24 makes an ES module's view of node:http by reading every one of its exports, and three
// of them (WebSocket, CloseEvent, MessageEvent) load Node's bundled undici when read: 0.1 s and
// 13 MiB at the start of every run, as the storage guard and @actions/http-client import it.
// The bundles' imports of node:http get it through require() instead, with every name but those
// three (test/house/required-http.test.ts holds the list to the running Node's).

/** node:http's exports that load undici when read (Node 24). */
export const LAZY_UNDICI = ['WebSocket', 'CloseEvent', 'MessageEvent'];

/** Every other export of node:http on Node 20 and 24 (absent ones are undefined, as they were). */
export const HTTP_EXPORTS = [
  '_connectionListener',
  'METHODS',
  'STATUS_CODES',
  'Agent',
  'ClientRequest',
  'IncomingMessage',
  'OutgoingMessage',
  'Server',
  'ServerResponse',
  'createServer',
  'validateHeaderName',
  'validateHeaderValue',
  'get',
  'request',
  'setMaxIdleHTTPParsers',
  'setGlobalProxyFromEnv',
  'maxHeaderSize',
  'globalAgent',
];

/** The esbuild plugin: `import … from 'node:http'` (or 'http') becomes a require(). */
export const requiredHttp = {
  name: 'required-http',
  setup(b) {
    b.onResolve({ filter: /^(node:)?http$/ }, (args) =>
      args.kind === 'import-statement' || args.kind === 'dynamic-import'
        ? { path: 'node:http', namespace: 'required-http' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'required-http' }, () => ({
      contents: [
        "const http = require('node:http');",
        'export default http;',
        `export const { ${HTTP_EXPORTS.join(', ')} } = http;`,
      ].join('\n'),
      loader: 'js',
    }));
  },
};
