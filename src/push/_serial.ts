/**
 * The one-at-a-time runner that makes an exporter's concurrent flushes
 * coalesce into as few deliveries as keep every caller's promise honest.
 *
 * @module
 */

/**
 * Runs tasks one at a time and coalesces callers: while a task runs, every
 * new call shares ONE follow-up run that starts when the current one ends, so
 * each caller's promise settles after a run that began after its call.
 */
export class Serial<T> {
  #running: Promise<T> | undefined;
  #queued: Promise<T> | undefined;

  /** Runs `task` now, or after the running task, shared with other waiting callers. */
  run(task: () => Promise<T>): Promise<T> {
    if (this.#queued !== undefined) return this.#queued;
    if (this.#running === undefined) return this.#start(task);
    const queued = this.#running.then(noop, noop).then(() => {
      this.#queued = undefined;
      return this.#start(task);
    });
    this.#queued = queued;
    return queued;
  }

  #start(task: () => Promise<T>): Promise<T> {
    const running = (async () => await task())();
    this.#running = running;
    const clear = () => {
      if (this.#running === running) this.#running = undefined;
    };
    running.then(clear, clear);
    return running;
  }
}

function noop(): void {}
