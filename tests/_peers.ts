/**
 * Helpers for tests that run real peers (Prometheus, promtool, Pushgateway,
 * other runtimes): free loopback ports, processes that are always stopped,
 * readiness polls instead of sleeps.
 *
 * @module
 */

/** Where `.ci/setup` installs the npm peers. */
export const TOOLS_BIN: string = new URL(
  "../.tools/node_modules/.bin/",
  import.meta.url,
).pathname;

/** The repository root, for running examples and the module from a peer. */
export const REPO_ROOT: string = new URL("../", import.meta.url).pathname;

/** A free TCP port on 127.0.0.1 (asks the kernel, then releases it). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Polls `check` until it returns true, or throws after `timeoutMs`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(
    `Timed out after ${timeoutMs} ms waiting for ${what}` +
      (lastError ? `: ${lastError}` : ""),
  );
}

/** True once `url` answers with any 2xx status. */
export async function answers(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await response.body?.cancel();
  return response.ok;
}

/** A child process that tests stop in `finally` (or with `await using`). */
export interface Peer extends AsyncDisposable {
  /** Everything the process printed so far (stdout and stderr), for diagnostics. */
  output(): string;
  /** Stops the process (SIGTERM, then SIGKILL after 5 s) and waits for it. */
  stop(): Promise<void>;
  /** Resolves with the exit status when the process exits by itself. */
  readonly status: Promise<Deno.CommandStatus>;
}

/** Options of {@linkcode startPeer}. */
export interface PeerOptions {
  /** Resolves true once the peer is ready; polled until `readyTimeoutMs`. */
  ready?: () => Promise<boolean> | boolean;
  /** How long the peer may take to get ready (default 30 s). */
  readyTimeoutMs?: number;
  /** Working directory. */
  cwd?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/**
 * Starts `command` with `args`, collects its output, waits until `ready`
 * says so, and returns a handle whose `stop()` always ends it.
 */
export async function startPeer(
  command: string,
  args: string[],
  options: PeerOptions = {},
): Promise<Peer> {
  const child = new Deno.Command(command, {
    args,
    cwd: options.cwd ?? REPO_ROOT,
    env: options.env ?? {},
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const chunks: string[] = [];
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      chunks.push(text);
    }
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const stop = async () => {
    if (!exited) {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      const killer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
      }, 5_000);
      await status;
      clearTimeout(killer);
    }
    await drained;
  };
  const peer: Peer = {
    output: () => chunks.join(""),
    stop,
    status,
    [Symbol.asyncDispose]: stop,
  };
  if (options.ready !== undefined) {
    try {
      await waitFor(
        `${command} to get ready`,
        async () => {
          if (exited) {
            throw new Error(`${command} exited early:\n${peer.output()}`);
          }
          return await options.ready!();
        },
        options.readyTimeoutMs ?? 30_000,
      );
    } catch (error) {
      await stop();
      throw new Error(
        `${error}\n--- output of ${command} ---\n${peer.output()}`,
      );
    }
  }
  return peer;
}

/** Runs a command to completion and returns its exit code and output. */
export async function run(
  command: string,
  args: string[],
  options: { stdin?: string; cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(command, {
    args,
    cwd: options.cwd ?? REPO_ROOT,
    ...(options.env ? { env: options.env } : {}),
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const { code, stdout, stderr } = await child.output();
  const decoder = new TextDecoder();
  return {
    code,
    stdout: decoder.decode(stdout),
    stderr: decoder.decode(stderr),
  };
}

/**
 * Runs `promtool check metrics` on exposition text. promtool exits 0 for
 * valid text; lint warnings (naming conventions) come back in `output`.
 */
export async function promtoolCheckMetrics(
  text: string,
): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await run("promtool", ["check", "metrics"], {
    stdin: text,
  });
  return { code, output: stdout + stderr };
}
