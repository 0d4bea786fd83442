/**
 * The parts of undici this package runs, loaded by their own paths instead of through undici's
 * index: `import 'undici'` loads every dispatcher, fetch, WebSocket, the cache and mock layers,
 * and through them Node's own bundled undici as well (about a third of certainly's import time;
 * `npm run bench:startup`). undici has no "exports" map, so these paths resolve for users as
 * they do here; package.json pins undici's exact version because they are not its public API,
 * and test/client/undici-parts.test.ts checks that each is the very class undici exports.
 *
 * Import undici values (classes, errors) from this module only; `import type` from 'undici'
 * stays as it is (types cost nothing at run time).
 */
import type * as Undici from 'undici';
import type apiT from 'undici/lib/api/index.js';
import type undiciErrorsT from 'undici/lib/core/errors.js';
import type AgentClassT from 'undici/lib/dispatcher/agent.js';
import type ClientClassT from 'undici/lib/dispatcher/client.js';
import type DispatcherClassT from 'undici/lib/dispatcher/dispatcher.js';
import type PoolClassT from 'undici/lib/dispatcher/pool.js';
import type poolBaseT from 'undici/lib/dispatcher/pool-base.js';
import { packageRequire } from '../der/require.js';

// Loaded with require, not `import`: an ES module import of a CommonJS file makes Node scan its
// source for named exports (cjs-module-lexer), and for these files that costs ~10 MB of resident
// memory at start-up (measured: 61.8 MB for the seven as imports, 51.7 MB as requires, in a fresh
// process that loads nothing else); npm run bench:startup compares the whole.
const load = <T>(path: string): T => packageRequire()(`undici/lib/${path}`) as T;
const api = load<typeof apiT>('api/index.js');
const undiciErrors = load<typeof undiciErrorsT>('core/errors.js');
const AgentClass = load<typeof AgentClassT>('dispatcher/agent.js');
const ClientClass = load<typeof ClientClassT>('dispatcher/client.js');
const DispatcherClass = load<typeof DispatcherClassT>('dispatcher/dispatcher.js');
const PoolClass = load<typeof PoolClassT>('dispatcher/pool.js');
const poolBase = load<typeof poolBaseT>('dispatcher/pool-base.js');

// What undici's index does on load: the request/stream/pipeline/upgrade/connect methods live
// on Dispatcher.prototype only after it. Doing it again (a user also imports 'undici') assigns
// the same functions.
Object.assign(DispatcherClass.prototype, api);

/** undici's Agent (a pool per origin). */
export const Agent: typeof Undici.Agent = AgentClass;
export type Agent = Undici.Agent;
export declare namespace Agent {
  type Options = Undici.Agent.Options;
}
/** undici's Client (one connection) and Pool (an origin's clients): the HTTP/2 pools build them (client/http2.ts). */
export const Client: typeof Undici.Client = ClientClass;
export type Client = Undici.Client;
export const Pool: typeof Undici.Pool = PoolClass;
export type Pool = Undici.Pool;
/**
 * The Pool's method that picks the client for the next request (or none: the Pool queues it).
 * client/http2.ts overrides it so that an origin's first connection takes every request while
 * its protocol is not known yet.
 */
export const kGetDispatcher: symbol = poolBase.kGetDispatcher;
/** undici's error classes (`errors.UndiciError`, `errors.SocketError`, …). */
export const errors: typeof Undici.errors = undiciErrors;
