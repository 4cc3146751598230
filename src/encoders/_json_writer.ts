/**
 * A growable UTF-8 buffer for the OTLP JSON writer, and the proto3 JSON
 * number forms it writes. Split from `_otlp_json.ts`, which walks the
 * request.
 *
 * @module
 */

const utf8 = /* @__PURE__ */ new TextEncoder();
const decoder = /* @__PURE__ */ new TextDecoder();
const COMMA = 44;
const QUOTE = 34;

/** Appends UTF-8 to one growable buffer and decodes it once at the end. */
export class JsonWriter {
  #buf: Uint8Array;
  #pos = 0;

  constructor(initialSize: number) {
    const size = Math.max(256, initialSize);
    const spare = spareBuffer === undefined ? undefined : spareBuffer.deref();
    this.#buf = spare !== undefined && spare.length >= size
      ? spare
      : new Uint8Array(size);
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#pos));
    this.#buf = next;
  }

  /** Appends one ASCII character by its code. */
  byte(code: number): void {
    this.#ensure(1);
    this.#buf[this.#pos++] = code;
  }

  /** Appends `length` bytes of `source` from `offset`: short runs by a loop, longer ones by a copy. */
  range(source: Uint8Array, offset: number, length: number): void {
    this.#ensure(length);
    const buf = this.#buf;
    const p = this.#pos;
    if (length < 32) {
      for (let i = 0; i < length; i++) buf[p + i] = source[offset + i]!;
    } else {
      // A whole array is copied as it is: a subarray would be an allocation.
      buf.set(
        length === source.length
          ? source
          : source.subarray(offset, offset + length),
        p,
      );
    }
    this.#pos = p + length;
  }

  /** Appends all of `source`. */
  bytes(source: Uint8Array): void {
    const n = source.length;
    this.#ensure(n);
    this.#buf.set(source, this.#pos);
    this.#pos += n;
  }

  /**
   * Appends integers as int64 JSON strings (`"1","2"`), each as
   * {@linkcode integer} writes it.
   */
  quotedIntegers(values: readonly number[]): void {
    for (let i = 0; i < values.length; i++) {
      if (i > 0) this.byte(COMMA);
      this.byte(QUOTE);
      this.integer(values[i]!);
      this.byte(QUOTE);
    }
  }

  /** Appends text as UTF-8 (JSON text: lone surrogates are already replaced). */
  text(text: string): void {
    const n = text.length;
    this.#ensure(n * 3);
    const buf = this.#buf;
    const p = this.#pos;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0x80) {
        this.#pos = p + i;
        this.#pos += utf8.encodeInto(text.slice(i), buf.subarray(this.#pos))
          .written;
        return;
      }
      buf[p + i] = c;
    }
    this.#pos = p + n;
  }

  /** Appends a double as {@linkcode double} writes it; whole numbers below 2^31 digit by digit. */
  double(value: number): void {
    // -0 is whole too, but `double` writes it "-0": 1 / -0 is -Infinity.
    if ((value | 0) === value && (value > 0 || 1 / value > 0)) {
      this.#digits(value);
    } else {
      this.text(double(value));
    }
  }

  /** Appends an integer as {@linkcode integer} writes it; below 2^31 digit by digit. */
  integer(value: number): void {
    if ((value | 0) === value && value >= 0) this.#digits(value);
    else this.text(integer(value));
  }

  /** Appends the decimal digits of an integer in [0, 2^31), without a string. */
  #digits(value: number): void {
    let n = 1;
    for (let rest = value; rest >= 10; n++) rest = (rest / 10) | 0;
    this.#ensure(n);
    const buf = this.#buf;
    let p = this.#pos + n;
    this.#pos = p;
    do {
      const next = (value / 10) | 0;
      buf[--p] = 48 + value - next * 10;
      value = next;
    } while (value > 0);
  }

  /** The JSON text. */
  finish(): string {
    const text = decoder.decode(this.#buf.subarray(0, this.#pos));
    if (typeof WeakRef === "function") spareBuffer = new WeakRef(this.#buf);
    return text;
  }

  /**
   * The bytes written, in a view of the writer's own buffer, which becomes
   * the caller's: it is never handed to a later writer.
   */
  finishBytes(): Uint8Array {
    const buf = this.#buf;
    if (spareBuffer !== undefined && spareBuffer.deref() === buf) {
      spareBuffer = undefined;
    }
    return buf.subarray(0, this.#pos);
  }
}

/**
 * The last writer's buffer, for the next encoding to write into: a fresh
 * buffer of this size costs its allocation, the kernel's zeroing of every
 * page on first write and a full garbage collection to free. Weak, so an
 * idle module holds no megabytes: the next full collection frees it.
 */
let spareBuffer: WeakRef<Uint8Array> | undefined;

/** A double per the proto3 JSON mapping: non-finite values as strings, -0 kept. */
export function double(value: number): string {
  if (value - value === 0) {
    return value === 0 && 1 / value < 0 ? "-0" : String(value);
  }
  return value > 0 ? '"Infinity"' : value < 0 ? '"-Infinity"' : '"NaN"';
}

/**
 * An integer's exact decimal digits: `String` up to 2^53, `BigInt` beyond
 * (where `String` rounds to the shortest form, "…847000").
 */
export function integer(value: number): string {
  return Number.isInteger(value) && !Number.isSafeInteger(value)
    ? BigInt(value).toString()
    : String(value);
}
