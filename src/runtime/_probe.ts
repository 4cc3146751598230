/**
 * What the runtime tells about its process, read structurally through
 * `globalThis`: nothing here imports or names a runtime's module, so it
 * type-checks without Deno's or Node's types and loads everywhere. Every
 * reader returns `undefined` where the runtime has no such source, and
 * never throws.
 *
 * @module
 */

/** The memory figures Deno, Node and Bun report, in bytes. */
export interface MemoryUsage {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
}

/** Event-loop utilisation as Node reports it (milliseconds and a ratio). */
export interface LoopUtilization {
  idle: number;
  active: number;
  utilization: number;
}

/** The parts of the runtimes' globals read here, all optional. */
interface RuntimeGlobals {
  Deno?: { memoryUsage?: () => MemoryUsage; version?: { deno?: string } };
  Bun?: { version?: string };
  EdgeRuntime?: unknown;
  process?: {
    memoryUsage?: () => MemoryUsage;
    cpuUsage?: () => { user: number; system: number };
    uptime?: () => number;
    versions?: Record<string, string | undefined>;
  };
  navigator?: { userAgent?: string };
  performance?: {
    timeOrigin?: number;
    now?: () => number;
    eventLoopUtilization?: (
      current?: LoopUtilization,
      previous?: LoopUtilization,
    ) => LoopUtilization;
  };
}

/** The runtime's name and version, as the info gauge labels them. */
export interface RuntimeIdentity {
  runtime: string;
  version: string;
}

/** The process sources this runtime has. */
export interface Probe {
  identity: RuntimeIdentity;
  /** Whether it is a Cloudflare Worker (an isolate with no process to report). */
  workers: boolean;
  memory?: () => MemoryUsage;
  /** CPU time in microseconds, as `process.cpuUsage()` reports it. */
  cpu?: () => { user: number; system: number };
  /** Seconds since the process started. */
  uptime?: () => number;
  loop?: (
    current?: LoopUtilization,
    previous?: LoopUtilization,
  ) => LoopUtilization;
}

/**
 * Looks at `globalThis` (or `scope`, for tests) once and returns the
 * readers that work here: each is called once on the spot, and left out
 * when it is missing, throws or returns something that is not a number.
 */
export function probe(scope: object = globalThis): Probe {
  const g = scope as RuntimeGlobals;
  const identity = identify(g);
  const workers = g.navigator?.userAgent === "Cloudflare-Workers";
  const found: Probe = { identity, workers };
  if (workers) return found;

  const deno = g.Deno, process = g.process, performance = g.performance;
  const memory = tryReader(() => deno!.memoryUsage!()) ??
    tryReader(() => process!.memoryUsage!());
  if (memory !== undefined && isFinite(memory().rss)) found.memory = memory;
  const cpu = tryReader(() => process!.cpuUsage!());
  if (cpu !== undefined && isFinite(cpu().user)) found.cpu = cpu;
  const uptime = tryReader(() => process!.uptime!());
  if (uptime !== undefined && isFinite(uptime())) found.uptime = uptime;
  const loop = performance?.eventLoopUtilization;
  if (
    typeof loop === "function" &&
    tryReader(() => loop.call(performance)) !== undefined &&
    isFinite(loop.call(performance).idle)
  ) {
    found.loop = (current, previous) =>
      loop.call(performance, current, previous);
  }
  return found;
}

/** The runtime's name and version; `unknown` where it says neither. */
function identify(g: RuntimeGlobals): RuntimeIdentity {
  const text = (value: unknown) =>
    typeof value === "string" && value !== "" ? value : "unknown";
  try {
    if (g.Deno?.version !== undefined) {
      return { runtime: "deno", version: text(g.Deno.version.deno) };
    }
    if (g.Bun !== undefined) {
      return { runtime: "bun", version: text(g.Bun.version) };
    }
    if (g.navigator?.userAgent === "Cloudflare-Workers") {
      return { runtime: "workerd", version: "unknown" };
    }
    if (g.EdgeRuntime !== undefined) {
      return { runtime: "edge-runtime", version: "unknown" };
    }
    const node = g.process?.versions?.node;
    if (node !== undefined) return { runtime: "node", version: text(node) };
  } catch {
    // A global that throws on access tells nothing.
  }
  return { runtime: "unknown", version: "unknown" };
}

/** `read` as a reader when one call of it works; `undefined` otherwise. */
function tryReader<T>(read: () => T): (() => T) | undefined {
  try {
    return read() === undefined ? undefined : read;
  } catch {
    return undefined;
  }
}

function isFinite(value: unknown): boolean {
  return typeof value === "number" && Number.isFinite(value);
}
