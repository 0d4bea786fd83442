/**
 * Keeps a client certificate from a server our verifier refuses (issue 14, "client certificates
 * kept back").
 *
 * TLS sends the client's Certificate in the client's second flight: after the server's
 * Certificate (TLS 1.2: in reply to ServerHelloDone; TLS 1.3: after the server's Finished, which
 * follows its Certificate). OpenSSL writes that flight from inside one SSL_do_handshake call, so
 * node:tls gives no hook between reading the server's chain and sending the client's; node's
 * client always runs OpenSSL with SSL_VERIFY_NONE and checks `rejectUnauthorized` only after the
 * handshake, and it has no client-certificate callback. What it does let us own is the byte
 * stream under the TLS socket (`tls.connect({ socket })`).
 *
 * So the gate is that stream: it passes through what the TLS client writes while the server's
 * certificate is not yet known (the ClientHello, a second ClientHello after a HelloRetryRequest),
 * and holds every later write, which is where a client Certificate can first appear, until
 * `check` (our verifier, the same one that decides the connection) has accepted the chain OpenSSL
 * has by then stored (getPeerX509Certificate works mid-handshake). If `check` refuses, the held
 * bytes are dropped and the connection is destroyed: the server never receives the client's
 * certificate, its CertificateVerify signature, or anything else of that flight. The same holds
 * over TLS 1.2 and 1.3, direct or through a proxy's tunnel.
 */
import { Duplex } from 'node:stream';
import type tls from 'node:tls';

interface Held {
  chunk: Buffer;
  callback: (err?: Error | null) => void;
}

export class ClientFlightGate extends Duplex {
  readonly #inner: Duplex;
  readonly #check: (socket: tls.TLSSocket) => Promise<boolean>;
  #socket: tls.TLSSocket | undefined;
  #open = false;
  #deciding = false;
  #held: Held[] = [];
  /** Why `check` refused the server, once it has. */
  refusal: Error | undefined;

  /**
   * `check` resolves false while the server's certificate is not known yet, true once it has
   * accepted it, and rejects to refuse the server. It must read the peer chain itself, once:
   * node's client-side getPeerX509Certificate() takes the leaf off OpenSSL's peer chain (TLS 1.2),
   * so a second read sees a shorter chain.
   */
  constructor(inner: Duplex, check: (socket: tls.TLSSocket) => Promise<boolean>) {
    super();
    this.#inner = inner;
    this.#check = check;
    inner.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) inner.pause();
    });
    inner.on('end', () => this.push(null));
    inner.on('error', (err) => this.destroy(err));
    inner.on('close', () => this.destroy());
  }

  /** The TLS socket running over this stream (whose peer certificate `check` reads). */
  attach(socket: tls.TLSSocket): void {
    this.#socket = socket;
  }

  override _read(): void {
    this.#inner.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.#open) {
      this.#inner.write(chunk, callback);
      return;
    }
    this.#held.push({ chunk, callback });
    if (this.#deciding) return;
    this.#deciding = true;
    // Not from inside the write: that runs within OpenSSL's handshake call.
    setImmediate(() => void this.#decide());
  }

  async #decide(): Promise<void> {
    const socket = this.#socket;
    if (this.destroyed) return;
    let accepted = false;
    try {
      accepted = socket !== undefined && (await this.#check(socket));
    } catch (err) {
      this.refusal = err as Error;
      const held = this.#held;
      this.#held = [];
      this.destroy(this.refusal);
      for (const h of held) h.callback(this.refusal);
      return;
    }
    if (this.destroyed) return;
    if (!accepted) {
      // The server's certificate has not been read: nothing written so far can hold the client's.
      this.#deciding = false;
      this.#release();
      return;
    }
    this.#open = true;
    this.#release();
  }

  #release(): void {
    const held = this.#held;
    this.#held = [];
    for (const h of held) this.#inner.write(h.chunk, h.callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.#inner.end(callback);
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.#inner.destroy();
    callback(err);
  }
}
