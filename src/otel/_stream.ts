/**
 * A meter's stream: what one instrument (through one view, or none)
 * records and exports, registered in the registry as a collector of the
 * same snapshot families the prom-client-style instruments make.
 *
 * @module
 */

import type {
  Attributes,
  CounterPoint,
  GaugePoint,
  HistogramPoint,
  MetricFamily,
  MetricType,
  OtelIdentity,
} from "../model.ts";
import type { Collector } from "../registry.ts";
import type { Clock } from "../clock.ts";
import { warnOnce } from "../_warn.ts";
import { AttributeTable, type KeyFilter } from "./_attribute_table.ts";

/** Everything a stream is made of, views applied. */
export interface StreamConfig {
  /** The Prometheus family name. */
  readonly name: string;
  /** The Prometheus unit word, `""` when none. */
  readonly unit: string;
  readonly description: string;
  readonly otel: OtelIdentity;
  readonly maxSeries: number;
  readonly clock: Clock;
  readonly filter: KeyFilter | undefined;
  /** Histogram bounds. */
  readonly bounds: readonly number[];
  /** Integer instruments truncate fractional values, as the OTel SDK does. */
  readonly integer: boolean;
}

/** How a stream aggregates: sums (monotonic or not), last value, histogram. */
export type Aggregation = "sum" | "updown" | "last" | "histogram";

/** A sync stream: the record path and the collector. */
export class Stream implements Collector {
  readonly name: string;
  readonly type: MetricType;
  readonly table: AttributeTable;
  readonly #aggregation: Aggregation;
  readonly #header: {
    name: string;
    help: string;
    unit?: string;
    otel: OtelIdentity;
  };
  readonly #bounds: readonly number[];
  readonly #integer: boolean;
  /** Which series an observable saw in the current round (observables only). */
  #seen: number[] | undefined;
  #round = 0;

  constructor(config: StreamConfig, aggregation: Aggregation) {
    this.#aggregation = aggregation;
    this.type = aggregation === "sum"
      ? "counter"
      : aggregation === "updown"
      ? "updowncounter"
      : aggregation === "last"
      ? "gauge"
      : "histogram";
    this.name = config.name;
    this.#bounds = config.bounds;
    this.#integer = config.integer;
    const stride = aggregation === "histogram" ? config.bounds.length + 3 : 1;
    this.table = new AttributeTable(
      config.otel.name,
      stride,
      config.maxSeries,
      config.clock,
      config.filter,
    );
    this.#header = config.unit === ""
      ? { name: config.name, help: config.description, otel: config.otel }
      : {
        name: config.name,
        help: config.description,
        unit: config.unit,
        otel: config.otel,
      };
  }

  get droppedLabelSets(): number {
    return this.table.droppedLabelSets;
  }

  /** Adds to a sum: a counter's negative or NaN amount is dropped with a warning. */
  add(value: number, attributes: Attributes | undefined): void {
    // One test for the common case: a finite number of at least 0.
    if (!(value >= 0 && value - value === 0) && !this.#accept(value)) return;
    if (this.#integer && !Number.isInteger(value)) value = Math.trunc(value);
    const table = this.table;
    // The lookup first: creating a series may replace `data`.
    const index = table.indexOf(attributes);
    table.data[index]! += value;
  }

  /** Sets a gauge's last value. */
  set(value: number, attributes: Attributes | undefined): void {
    if (typeof value !== "number") {
      this.#reject(value);
      return;
    }
    if (this.#integer && !Number.isInteger(value)) value = Math.trunc(value);
    const table = this.table;
    const index = table.indexOf(attributes);
    table.data[index] = value;
  }

  /** Records a histogram value; negative and NaN values are dropped with a warning. */
  record(value: number, attributes: Attributes | undefined): void {
    // One test for the common case: a finite number of at least 0.
    if (!(value >= 0 && value - value === 0) && !this.#accept(value)) return;
    if (this.#integer && !Number.isInteger(value)) value = Math.trunc(value);
    const table = this.table;
    const bounds = this.#bounds;
    const base = table.indexOf(attributes) * table.stride;
    let bucket = 0;
    while (bucket < bounds.length && value > bounds[bucket]!) bucket++;
    const data = table.data;
    data[base + bucket]!++;
    data[base + bounds.length + 1]! += value; // sum
    data[base + bounds.length + 2]!++; // count
  }

  /**
   * Judges a value below 0, NaN or not a number: an up-down counter takes
   * negative numbers; everything else is dropped with one warning per
   * instrument, as the OTel API expects (no throw on the caller's path).
   */
  #accept(value: unknown): boolean {
    if (typeof value !== "number") return this.#reject(value);
    if (value - value !== 0) {
      // NaN and ±Infinity never enter a sum (they would stay in it).
      warnOnce(
        `otel-non-finite:${this.name}`,
        `ignored a non-finite value of instrument "${this.table.metric}", got ${value}`,
      );
      return false;
    }
    if (this.#aggregation === "updown" || this.#aggregation === "last") {
      return true;
    }
    warnOnce(
      `otel-negative:${this.name}`,
      `ignored a negative value of ${
        this.#aggregation === "sum" ? "counter" : "histogram"
      } "${this.table.metric}" (got ${value}): it only takes values of at least 0`,
    );
    return false;
  }

  #reject(value: unknown): false {
    warnOnce(
      `otel-type:${this.name}`,
      `ignored a value of instrument "${this.table.metric}": a value must be a number, got ${
        typeof value === "bigint" ? `${value}n` : JSON.stringify(value) ??
          typeof value
      }`,
    );
    return false;
  }

  /** Starts an observation round: series not observed in it are not exported. */
  beginRound(): void {
    this.#round++;
    this.#seen ??= [];
  }

  /** Records an observed absolute value for the current round (last one wins). */
  observe(value: number, attributes: Attributes | undefined): void {
    if (typeof value !== "number") {
      this.#reject(value);
      return;
    }
    // A gauge keeps NaN and ±Infinity (the next value replaces them); a sum
    // never takes them.
    if (value - value !== 0 && this.#aggregation !== "last") {
      if (!this.#accept(value)) return;
    }
    if (this.#integer && !Number.isInteger(value)) value = Math.trunc(value);
    const table = this.table;
    const index = table.indexOf(attributes);
    table.data[index] = value;
    this.#seen![index] = this.#round;
  }

  collect(): MetricFamily {
    const table = this.table;
    const { labels, attributes, data, created } = table;
    const seen = this.#seen;
    const points: (CounterPoint | GaugePoint | HistogramPoint)[] = [];
    const stride = table.stride;
    const n = this.#bounds.length + 1;
    for (let i = 0; i < table.size; i++) {
      if (seen !== undefined && seen[i] !== this.#round) continue;
      const attrs = attributes[i];
      const base = i * stride;
      let point: CounterPoint | GaugePoint | HistogramPoint;
      if (this.type === "histogram") {
        point = {
          labels: labels[i]!,
          counts: Array.from(data.subarray(base, base + n)),
          sum: data[base + n]!,
          count: data[base + n + 1]!,
          created: created[i]!,
        };
      } else if (this.type === "gauge") {
        point = { labels: labels[i]!, value: data[base]! };
      } else {
        point = {
          labels: labels[i]!,
          value: data[base]!,
          created: created[i]!,
        };
      }
      points.push(
        attrs === undefined ? point : { ...point, attributes: attrs },
      );
    }
    switch (this.type) {
      case "histogram":
        return {
          type: "histogram",
          ...this.#header,
          bounds: this.#bounds,
          points: points as HistogramPoint[],
        };
      case "gauge":
        return {
          type: "gauge",
          ...this.#header,
          aggregation: "sum",
          points: points as GaugePoint[],
        };
      default:
        return {
          type: this.type as "counter" | "updowncounter",
          ...this.#header,
          points: points as CounterPoint[],
        };
    }
  }
}
