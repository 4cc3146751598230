/**
 * The periodic exporters' timers: letting a process exit while one waits.
 *
 * @module
 */

/**
 * Lets the process exit while the timer waits: Node and Bun give a timer
 * object with `unref()`, Deno a number for `Deno.unrefTimer()`; elsewhere
 * (Workers) there is nothing to do.
 */
export function unrefTimer(timer: unknown): void {
  if (typeof timer === "number") {
    (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno
      ?.unrefTimer?.(timer);
  } else {
    (timer as { unref?(): void } | null | undefined)?.unref?.();
  }
}
