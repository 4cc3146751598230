/**
 * The lifecycle every periodic push exporter shares: on-demand and periodic
 * exports run one at a time, and a shutdown that stops the timer, exports a
 * last time and closes the exporter for good.
 *
 * @module
 */

import { positive } from "./_delivery_options.ts";
import { Serial } from "./_serial.ts";
import { unrefTimer } from "./_timer.ts";

/** Whose exports an {@linkcode ExportLifecycle} runs, and how often. */
export interface ExportLifecycleOwner {
  /** The exporter's class name, for errors and the warning after shutdown. */
  owner: string;
  /** The exporter's endpoint, for the warning after shutdown. */
  url: string;
  /** The user's `intervalMs` option, checked here: no periodic export without it. */
  intervalMs: number | undefined;
}

/**
 * Runs an exporter's exports: `flush()` on demand, every `intervalMs` once
 * started, and a final one at `shutdown()`. Exports never overlap: callers
 * that arrive while one runs share the next. After shutdown nothing is
 * exported again.
 */
export class ExportLifecycle {
  #export: () => Promise<void>;
  #intervalMs: number | undefined;
  #onError: (error: Error) => void;
  #owner: string;
  #url: string;
  #serial = new Serial<void>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #started = false;
  #closed = false;
  #warnedClosed = false;

  /**
   * @param exporter Who owns the exports, and the `intervalMs` option.
   * @param run One export of the exporter's registry.
   * @param onError Where failures of periodic exports go.
   * @throws {RangeError} When `intervalMs` is given and not above 0.
   */
  constructor(
    exporter: ExportLifecycleOwner,
    run: () => Promise<void>,
    onError: (error: Error) => void,
  ) {
    this.#owner = exporter.owner;
    this.#url = exporter.url;
    this.#intervalMs = positive(
      exporter.owner,
      "intervalMs",
      exporter.intervalMs,
      undefined,
    );
    this.#export = run;
    this.#onError = onError;
  }

  /** Exports now (starting the timer); after shutdown, warns once and resolves. */
  flush(): Promise<void> {
    if (this.#closed) {
      if (!this.#warnedClosed) {
        this.#warnedClosed = true;
        console.warn(
          `edgemetrics: ignored flush() of the ${this.#owner} for ${this.#url}: it is shut down`,
        );
      }
      return Promise.resolve();
    }
    this.start();
    return this.#serial.run(this.#export);
  }

  /** Starts the periodic timer, once, unless shut down or without an interval. */
  start(): void {
    if (this.#started || this.#closed || this.#intervalMs === undefined) return;
    this.#started = true;
    this.#schedule();
  }

  /** Stops the timer and exports a last time; later calls do nothing. */
  async shutdown(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#serial.run(this.#export);
  }

  #schedule(): void {
    if (this.#closed || this.#intervalMs === undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#closed) return;
      this.#serial.run(this.#export).catch((error) =>
        this.#onError(error instanceof Error ? error : new Error(String(error)))
      ).finally(() => this.#schedule());
    }, this.#intervalMs);
    unrefTimer(this.#timer);
  }
}
