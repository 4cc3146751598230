/**
 * The channels workers aggregate over: a worker's unique id, the name of
 * the channel one worker answers another on, opening a channel that does
 * not keep a Node or Bun process alive, and the global scope's `unload`
 * event that closes them.
 *
 * @module
 */

/**
 * The name of the channel that `answerer`'s answers to `requester` take on
 * the shared channel `shared`: only `requester` listens on it and only
 * `answerer` posts on it. A channel opened just to post once and closed at
 * once would do in Deno 2.8.2+, Node and Bun, but Deno 2.6 to 2.8.1 drop a
 * message posted to other isolates right before `close()`.
 */
export function pairChannel(
  shared: string,
  answerer: string,
  requester: string,
): string {
  return `${shared}:${answerer}:${requester}`;
}

/** Opens a channel that hands the data of what it receives to `receive`. */
export function openChannel(
  name: string,
  receive: (data: unknown) => void,
): BroadcastChannel {
  const channel = new BroadcastChannel(name);
  channel.onmessage = (event: MessageEvent) => receive(event.data);
  // Node and Bun let a channel stop keeping the process alive; Deno cannot.
  (channel as { unref?: () => void }).unref?.();
  return channel;
}

/** The global scope's event target, where the runtime has one. */
export function globalEvents(): EventTarget | undefined {
  const scope = globalThis as Partial<EventTarget>;
  return typeof scope.addEventListener === "function" &&
      typeof scope.removeEventListener === "function"
    ? scope as EventTarget
    : undefined;
}

/** A unique id: `crypto.randomUUID()` where it exists (it needs a secure context in browsers). */
export function newId(): string {
  const random = globalThis.crypto;
  if (typeof random?.randomUUID === "function") return random.randomUUID();
  const bytes = new Uint8Array(16);
  random.getRandomValues(bytes);
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
