/**
 * Test helper: Debian's headless `chromium`, driven over the DevTools
 * protocol with a WebSocket. Chromium listens on 127.0.0.1 only, uses a
 * fresh profile directory, and stops (profile removed) when disposed.
 *
 * @module
 */

import { freePort, startPeer, waitFor } from "./_peers.ts";

/** The flags every run uses: headless, no network of its own, no state. */
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
  "--window-size=1200,900",
];

/** One DevTools page session. */
export interface Browser extends AsyncDisposable {
  /** Sends a DevTools command to the page and returns its result. */
  send(method: string, params?: Record<string, unknown>): Promise<unknown>;
  /** Every event the page sent so far, in order. */
  readonly events: { method: string; params: Record<string, unknown> }[];
  /** Evaluates an expression in the page (awaiting a promise) and returns its value. */
  evaluate<T>(expression: string): Promise<T>;
  /** Navigates and waits for the load event. */
  navigate(url: string): Promise<void>;
  /** Chromium's version line. */
  readonly version: string;
}

/** Starts headless Chromium and connects to its first page. */
export async function startChromium(): Promise<Browser> {
  const profile = await Deno.makeTempDir({ prefix: "edgemetrics-chromium-" });
  const port = freePort();
  const chromium = await startPeer("chromium", [
    ...FLAGS,
    `--user-data-dir=${profile}`,
    "--remote-debugging-address=127.0.0.1",
    `--remote-debugging-port=${port}`,
    "about:blank",
  ], {
    env: { HOME: profile },
    ready: async () => {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/json/version`);
        return response.ok && (await response.json(), true);
      } catch {
        return false;
      }
    },
  });
  try {
    const version = (await (await fetch(
      `http://127.0.0.1:${port}/json/version`,
    )).json()).Browser as string;
    const targets: { type: string; webSocketDebuggerUrl: string }[] =
      await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
    const page = targets.find((target) => target.type === "page");
    if (page === undefined) throw new Error("chromium opened no page");
    const socket = new WebSocket(page.webSocketDebuggerUrl);
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Error("DevTools socket failed"));
    });
    let nextId = 1;
    const waiting = new Map<
      number,
      { resolve: (value: unknown) => void; reject: (error: Error) => void }
    >();
    const events: Browser["events"] = [];
    socket.onmessage = (message) => {
      const data = JSON.parse(message.data);
      if (data.id === undefined) {
        events.push({ method: data.method, params: data.params ?? {} });
        return;
      }
      const waiter = waiting.get(data.id);
      waiting.delete(data.id);
      if (data.error) {
        waiter?.reject(new Error(`${data.error.message} (${data.error.code})`));
      } else waiter?.resolve(data.result);
    };
    const send = (method: string, params: Record<string, unknown> = {}) => {
      const id = nextId++;
      socket.send(JSON.stringify({ id, method, params }));
      return new Promise<unknown>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`DevTools ${method} timed out`));
        }, 20_000);
        waiting.set(id, {
          resolve: (value) => {
            clearTimeout(timer);
            resolve(value);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
      });
    };
    const evaluate = async <T>(expression: string): Promise<T> => {
      const result = await send("Runtime.evaluate", {
        expression,
        awaitPromise: true,
        returnByValue: true,
      }) as {
        result: { value: T };
        exceptionDetails?: { exception?: { description?: string } };
      };
      if (result.exceptionDetails) {
        throw new Error(
          `page threw: ${result.exceptionDetails.exception?.description}`,
        );
      }
      return result.result.value;
    };
    await send("Page.enable");
    const navigate = async (url: string) => {
      const before = events.length;
      await send("Page.navigate", { url });
      await waitFor(
        `${url} to load`,
        () =>
          events.slice(before).some((e) => e.method === "Page.loadEventFired"),
        20_000,
      );
    };
    return {
      send,
      events,
      evaluate,
      navigate,
      version,
      async [Symbol.asyncDispose]() {
        socket.close();
        await chromium.stop();
        await Deno.remove(profile, { recursive: true }).catch(() => {});
      },
    };
  } catch (error) {
    await chromium.stop();
    await Deno.remove(profile, { recursive: true }).catch(() => {});
    throw error;
  }
}
