import { createRequire as __lmsCreateRequire } from 'node:module';
import { fileURLToPath as __lmsFileURLToPath } from 'node:url';
import { dirname as __lmsDirname } from 'node:path';
var require = __lmsCreateRequire(import.meta.url);
var __filename = __lmsFileURLToPath(import.meta.url);
var __dirname = __lmsDirname(__filename);
import {
  __esm,
  __export,
  __require
} from "./chunk-ZTERMN2E.js";

// required-http:node:http
var node_http_exports = {};
__export(node_http_exports, {
  Agent: () => Agent,
  ClientRequest: () => ClientRequest,
  IncomingMessage: () => IncomingMessage,
  METHODS: () => METHODS,
  OutgoingMessage: () => OutgoingMessage,
  STATUS_CODES: () => STATUS_CODES,
  Server: () => Server,
  ServerResponse: () => ServerResponse,
  _connectionListener: () => _connectionListener,
  createServer: () => createServer,
  default: () => node_http_default,
  get: () => get,
  globalAgent: () => globalAgent,
  maxHeaderSize: () => maxHeaderSize,
  request: () => request,
  setGlobalProxyFromEnv: () => setGlobalProxyFromEnv,
  setMaxIdleHTTPParsers: () => setMaxIdleHTTPParsers,
  validateHeaderName: () => validateHeaderName,
  validateHeaderValue: () => validateHeaderValue
});
var http, node_http_default, _connectionListener, METHODS, STATUS_CODES, Agent, ClientRequest, IncomingMessage, OutgoingMessage, Server, ServerResponse, createServer, validateHeaderName, validateHeaderValue, get, request, setMaxIdleHTTPParsers, setGlobalProxyFromEnv, maxHeaderSize, globalAgent;
var init_node_http = __esm({
  "required-http:node:http"() {
    http = __require("node:http");
    node_http_default = http;
    ({ _connectionListener, METHODS, STATUS_CODES, Agent, ClientRequest, IncomingMessage, OutgoingMessage, Server, ServerResponse, createServer, validateHeaderName, validateHeaderValue, get, request, setMaxIdleHTTPParsers, setGlobalProxyFromEnv, maxHeaderSize, globalAgent } = http);
  }
});

export {
  node_http_default,
  _connectionListener,
  METHODS,
  STATUS_CODES,
  Agent,
  ClientRequest,
  IncomingMessage,
  OutgoingMessage,
  Server,
  ServerResponse,
  createServer,
  validateHeaderName,
  validateHeaderValue,
  get,
  request,
  setMaxIdleHTTPParsers,
  setGlobalProxyFromEnv,
  maxHeaderSize,
  globalAgent,
  node_http_exports,
  init_node_http
};
