/**
 * What every runtime adapter provides: an HTTP listener around a `fetch` handler.
 *
 * @module
 */

/** A Web-standard request handler. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** Where to listen. */
export interface ListenOptions {
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  /** Address to bind. */
  readonly hostname: string;
}

/** A listening HTTP server. */
export interface Listener {
  /** The port actually bound. */
  readonly port: number;
  /** The address bound. */
  readonly hostname: string;
  /** Stops accepting connections and resolves once open responses have finished. */
  close(): Promise<void>;
}

/** Starts an HTTP server for `handler`; one per runtime. */
export type Listen = (handler: FetchHandler, options: ListenOptions) => Promise<Listener>;
