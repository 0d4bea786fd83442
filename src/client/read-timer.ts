/**
 * The read timeout, on time. undici's headersTimeout and bodyTimeout run on its "fast timers",
 * which tick every 499 ms (lib/util/timers.js, TICK_MS), so a 200 ms read timeout fired after up
 * to ~0.7 s. This interceptor keeps one native timer per request instead: armed when the request
 * has been sent, refreshed by every chunk of the response, stopped while the reader has paused
 * the body (a slow reader is not a slow server, as in undici), cleared at the end.
 *
 * The session passes `readTimeout` in the dispatch options; undici's own timers stay as a
 * backstop, a second later.
 */
import type { Dispatcher } from 'undici';
import { errors } from './undici.js';

/** The dispatch options the interceptor reads. */
export interface ReadTimerOptions {
  /** Milliseconds; 0 or absent: no timer of ours. */
  readTimeout?: number;
}

type Handler = Dispatcher.DispatchHandler & Record<string, unknown>;
type Abort = (err?: Error) => void;

/** undici's (legacy) handler, wrapped: every callback passes through, the timer rides along. */
class ReadTimer {
  readonly #h: Handler;
  readonly #ms: number;
  #timer: NodeJS.Timeout | undefined;
  #abort: Abort | undefined;
  #headers = false;
  #paused = false;
  #done = false;

  constructor(handler: Handler, ms: number) {
    this.#h = handler;
    this.#ms = ms;
  }

  #arm(): void {
    if (this.#done) return;
    if (this.#timer) this.#timer.refresh();
    else {
      this.#timer = setTimeout(() => this.#fire(), this.#ms);
      this.#timer.unref();
    }
  }

  #stop(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #fire(): void {
    this.#timer = undefined;
    if (this.#done || this.#paused) return;
    // The same errors undici raises, so one mapping (undici-errors.ts) words both.
    this.#abort?.(this.#headers ? new errors.BodyTimeoutError() : new errors.HeadersTimeoutError());
  }

  onConnect(abort: Abort, context?: unknown): void {
    this.#abort = abort;
    (this.#h.onConnect as (a: Abort, c?: unknown) => void)?.(abort, context);
  }
  onBodySent(chunk: unknown): void {
    (this.#h.onBodySent as ((c: unknown) => void) | undefined)?.(chunk);
  }
  onRequestSent(): void {
    this.#arm();
    (this.#h.onRequestSent as (() => void) | undefined)?.();
  }
  onResponseStarted(): void {
    (this.#h.onResponseStarted as (() => void) | undefined)?.();
  }
  onHeaders(status: number, raw: Buffer[], resume: () => void, message: string): boolean {
    if (status >= 200) this.#headers = true;
    this.#arm();
    const onResume = () => {
      if (this.#paused) {
        this.#paused = false;
        this.#arm();
      }
      resume();
    };
    const go = (this.#h.onHeaders as (s: number, r: Buffer[], f: () => void, m: string) => boolean)(
      status,
      raw,
      onResume,
      message,
    );
    if (go === false) this.#pause();
    return go;
  }
  onData(chunk: Buffer): boolean {
    const go = (this.#h.onData as (c: Buffer) => boolean)(chunk);
    if (go === false) this.#pause();
    else this.#arm();
    return go;
  }
  onComplete(trailers: unknown): void {
    this.#finish();
    (this.#h.onComplete as (t: unknown) => void)(trailers);
  }
  onError(err: Error): void {
    this.#finish();
    (this.#h.onError as (e: Error) => void)(err);
  }
  onUpgrade(status: number, headers: unknown, socket: unknown): void {
    this.#finish();
    (this.#h.onUpgrade as ((s: number, h: unknown, k: unknown) => void) | undefined)?.(
      status,
      headers,
      socket,
    );
  }

  #pause(): void {
    this.#paused = true;
    this.#stop();
  }
  #finish(): void {
    this.#done = true;
    this.#stop();
  }
}

/** The interceptor (Dispatcher.compose): wraps a request's handler when it asks for a read timer. */
export const readTimer: Dispatcher.DispatcherComposeInterceptor =
  (dispatch) => (opts: Dispatcher.DispatchOptions & ReadTimerOptions, handler) => {
    const ms = opts.readTimeout;
    if (!ms) return dispatch(opts, handler);
    return dispatch(opts, new ReadTimer(handler as Handler, ms) as unknown as Dispatcher.DispatchHandler);
  };

/**
 * The dispatcher the Session sends through: `agent` with the read timer on every request that
 * asks for one. What readTimer does under agent.compose(), without compose's cost per request
 * (a Proxy in front of the agent, and undici's WrapHandler around each handler, which our
 * ReadTimer, a handler of the same legacy kind as request()'s, does not need). Everything but
 * dispatch is the agent's own (the object inherits from it).
 */
export function withReadTimer<D extends Dispatcher>(agent: D): D {
  const timed = Object.create(agent) as D;
  const dispatch = agent.dispatch.bind(agent);
  Object.defineProperty(timed, 'dispatch', {
    value: (opts: Dispatcher.DispatchOptions & ReadTimerOptions, handler: Dispatcher.DispatchHandler) => {
      const ms = opts.readTimeout;
      return dispatch(
        opts,
        ms ? (new ReadTimer(handler as Handler, ms) as unknown as Dispatcher.DispatchHandler) : handler,
      );
    },
  });
  return timed;
}
