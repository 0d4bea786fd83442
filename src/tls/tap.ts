/**
 * A duplex stream over a connected socket that keeps a copy of every byte received, for
 * diagnosis: tls/handshake.ts runs the TLS handshake over it when a HandshakeTap is given, so
 * diagnose/wire.ts can read the Certificate message exactly as the server sent it.
 */
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

/**
 * Bytes of the server's flight kept at most. RFC 8446 allows a certificate_list of 2^24-1 bytes,
 * but real chains are a few KB (one with 1000 SANs is ~30 KB); 1 MiB covers any real chain with
 * room to spare and keeps a hostile server from growing memory without limit.
 */
export const MAX_CAPTURE_BYTES = 1024 * 1024;

/** A duplex stream over a connected socket that keeps a copy of every byte received. */
export class TapStream extends Duplex {
  readonly #socket: Socket;
  readonly #chunks: Buffer[] = [];
  #kept = 0;
  /** True once more than MAX_CAPTURE_BYTES arrived (the rest was passed on, not kept). */
  overflowed = false;

  constructor(socket: Socket) {
    super();
    this.#socket = socket;
    socket.on('data', (d: Buffer) => {
      if (this.#kept + d.length <= MAX_CAPTURE_BYTES) {
        this.#chunks.push(d);
        this.#kept += d.length;
      } else this.overflowed = true;
      if (!this.push(d)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => {
      if (!this.destroyed) this.push(null);
    });
  }

  /** The bytes received so far (up to MAX_CAPTURE_BYTES). */
  received(): Buffer {
    return Buffer.concat(this.#chunks, this.#kept);
  }

  /** Stops keeping bytes (after the handshake) and frees what was kept. */
  release(): void {
    this.#chunks.length = 0;
    this.#kept = MAX_CAPTURE_BYTES + 1;
  }

  override _read(): void {
    this.#socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#socket.write(chunk, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#socket.end(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#socket.destroy();
    cb(err);
  }
}
