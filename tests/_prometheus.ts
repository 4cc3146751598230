/**
 * A real Prometheus for integration tests: writes its configuration, starts
 * it on a free loopback port with its own temporary storage, waits until it
 * is ready, and answers PromQL through its HTTP API. The handle always stops
 * the process and removes the directory (`stop()` or `await using`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { answers, freePort, type Peer, startPeer, waitFor } from "./_peers.ts";

/** One scrape job of the generated configuration. */
export interface ScrapeJob {
  /** `job_name`. */
  job: string;
  /** The target's port on 127.0.0.1. */
  port: number;
  /** `metrics_path` (Prometheus' default `/metrics` when absent). */
  path?: string;
  /** `honor_labels: true`. */
  honorLabels?: boolean;
}

/** Options of {@linkcode startPrometheus}. */
export interface PrometheusOptions {
  /** Scrape jobs, every one each second with a 1 s timeout. */
  scrape?: ScrapeJob[];
  /** Rule files to load, evaluated each second. */
  ruleFiles?: string[];
  /** Extra command-line flags (`--enable-feature=…`, …). */
  flags?: string[];
}

/** One series of an instant query: its labels and its value. */
export interface Series {
  labels: Record<string, string>;
  value: number;
}

/** A running Prometheus. */
export interface Prometheus extends AsyncDisposable {
  /** Its base URL, `http://127.0.0.1:port`. */
  readonly url: string;
  /** The process, for its output. */
  readonly peer: Peer;
  /** `GET /api/v1/<path>`: asserts `status: success`, returns `data`. */
  api(path: string, params?: Record<string, string>): Promise<unknown>;
  /** Runs an instant query and returns every series. */
  query(promql: string): Promise<Series[]>;
  /** An instant query's single value, or `undefined` when it is empty. */
  value(promql: string): Promise<number | undefined>;
  /** Polls `promql` until its single value is `expected`. */
  waitForValue(
    promql: string,
    expected: number,
    what?: string,
    timeoutMs?: number,
  ): Promise<void>;
  /** Waits for the first successful scrape of `job` (`up` is 1). */
  waitForScrape(job: string): Promise<void>;
  /** Stops Prometheus and removes its configuration and storage. */
  stop(): Promise<void>;
}

/** The configuration file for `options`. */
function configuration(options: PrometheusOptions): string {
  const lines = ["global:", "  scrape_interval: 1s", "  scrape_timeout: 1s"];
  if (options.ruleFiles?.length) {
    lines.push("  evaluation_interval: 1s", "rule_files:");
    for (const file of options.ruleFiles) lines.push(`  - ${file}`);
  }
  if (options.scrape?.length) {
    lines.push("scrape_configs:");
    for (const { job, port, path, honorLabels } of options.scrape) {
      lines.push(`  - job_name: ${job}`);
      if (path !== undefined) lines.push(`    metrics_path: ${path}`);
      if (honorLabels) lines.push("    honor_labels: true");
      lines.push(
        "    static_configs:",
        `      - targets: ["127.0.0.1:${port}"]`,
      );
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * Starts Prometheus on 127.0.0.1 with the scrape jobs, rules and flags of
 * `options`, and resolves once `/-/ready` answers.
 */
export async function startPrometheus(
  options: PrometheusOptions = {},
): Promise<Prometheus> {
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const dir = await Deno.makeTempDir({ prefix: "edgemetrics-prometheus-" });
  let peer: Peer;
  try {
    await Deno.writeTextFile(`${dir}/prometheus.yml`, configuration(options));
    peer = await startPeer("prometheus", [
      `--config.file=${dir}/prometheus.yml`,
      `--storage.tsdb.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
      ...(options.flags ?? []),
      "--log.level=warn",
    ], { ready: () => answers(`${url}/-/ready`) });
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }

  const api = async (path: string, params: Record<string, string> = {}) => {
    const search = new URLSearchParams(params);
    const response = await fetch(`${url}/api/v1/${path}?${search}`, {
      signal: AbortSignal.timeout(5_000),
    });
    const body = await response.json();
    assert.equal(
      body.status,
      "success",
      `${path} ${search}: ${JSON.stringify(body)}`,
    );
    return body.data;
  };
  const query = async (promql: string): Promise<Series[]> => {
    const data = await api("query", { query: promql }) as {
      result: { metric: Record<string, string>; value: [number, string] }[];
    };
    return data.result.map((r) => ({
      labels: r.metric,
      value: Number(r.value[1]),
    }));
  };
  const value = async (promql: string): Promise<number | undefined> => {
    const result = await query(promql);
    assert.ok(result.length <= 1, `${promql}: ${JSON.stringify(result)}`);
    return result[0]?.value;
  };
  const waitForValue = (
    promql: string,
    expected: number,
    what = `${promql} to be ${expected}`,
    timeoutMs?: number,
  ) => waitFor(what, async () => (await value(promql)) === expected, timeoutMs);
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      try {
        await peer.stop();
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    })();
  return {
    url,
    peer,
    api,
    query,
    value,
    waitForValue,
    waitForScrape: (job) =>
      waitForValue(`up{job="${job}"}`, 1, `the first scrape of ${job}`),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
