/**
 * A tiny protocol buffers writer that writes backwards.
 *
 * Every length-delimited field (a submessage, a string, a packed array) must
 * be preceded by its byte length, which is only known once its content is
 * written. Instead of computing sizes in a first pass, this writer fills its
 * buffer from the end towards the start: a caller writes a message's fields
 * in reverse order (last field first, innermost content first), and when a
 * submessage's content is done its length is simply the number of bytes
 * written since {@linkcode ProtoWriter.mark}, so the length and the tag are
 * prepended without any copy or size cache. The result is one contiguous
 * `Uint8Array` view at the end of the buffer.
 *
 * The buffer grows by doubling; content is moved to the end of the new
 * buffer, so marks (distances from the end) stay valid. Numbers go through a
 * `DataView` of the buffer and ASCII strings are copied by hand straight into
 * it, with no allocation; only a string with non-ASCII characters is
 * UTF-8-encoded by `TextEncoder` into a new array first.
 *
 * Wire types used by OTLP: 0 varint (enums, bool, uint32), 1 fixed64
 * (fixed64, sfixed64, double), 2 length-delimited (messages, strings, bytes,
 * packed repeated scalars).
 *
 * @module
 */

/** Wire type 0: varint. */
export const WIRE_VARINT = 0;
/** Wire type 1: 64-bit little-endian (fixed64, sfixed64, double). */
export const WIRE_FIXED64 = 1;
/** Wire type 2: length-delimited (string, bytes, message, packed). */
export const WIRE_LEN = 2;

const TWO_32 = 4294967296;
const utf8 = /* @__PURE__ */ new TextEncoder();

/** Writes protobuf fields back to front into a growable buffer. */
export class ProtoWriter {
  #buf: Uint8Array;
  /** The same bytes as `#buf`, for writing little-endian numbers. */
  #view: DataView;
  /** Index of the first written byte; content is `#buf[#pos..]`. */
  #pos: number;

  /** Starts with `initialSize` bytes of room (it grows when needed). */
  constructor(initialSize = 4096) {
    this.#buf = new Uint8Array(Math.max(16, initialSize));
    this.#view = new DataView(this.#buf.buffer);
    this.#pos = this.#buf.length;
  }

  /** How many bytes have been written so far: a mark for {@linkcode endLen}. */
  mark(): number {
    return this.#buf.length - this.#pos;
  }

  /** The bytes written, as a view (no copy) of the internal buffer. */
  finish(): Uint8Array {
    return this.#buf.subarray(this.#pos);
  }

  /**
   * Makes room for `n` more bytes before `#pos` and returns the new `#pos`.
   * It may replace `#buf` and `#view`: read them after calling it.
   */
  #take(n: number): number {
    if (this.#pos < n) {
      const used = this.#buf.length - this.#pos;
      let size = this.#buf.length * 2;
      while (size - used < n) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.#buf.subarray(this.#pos), size - used);
      this.#buf = next;
      this.#view = new DataView(next.buffer);
      this.#pos = size - used;
    }
    this.#pos -= n;
    return this.#pos;
  }

  /** Prepends an unsigned varint; `value` must be an integer in [0, 2^53). */
  varint(value: number): void {
    if (value < 128) {
      // the common case: one byte (tags, enums, short lengths)
      const p = this.#take(1);
      this.#buf[p] = value;
    } else {
      this.varint64(value >>> 0, Math.floor(value / TWO_32));
    }
  }

  /** Prepends an unsigned 64-bit varint given as two unsigned 32-bit halves. */
  varint64(lo: number, hi: number): void {
    // Count the bytes first, then fill them front to back at the new start.
    let n = 1;
    for (let l = lo, h = hi; h !== 0 || l >= 128; n++) {
      l = ((l >>> 7) | (h << 25)) >>> 0;
      h = h >>> 7;
    }
    let p = this.#take(n);
    const buf = this.#buf;
    while (hi !== 0 || lo >= 128) {
      buf[p++] = (lo & 127) | 128;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi = hi >>> 7;
    }
    buf[p] = lo;
  }

  /** Prepends a field key: `(field << 3) | wireType`. */
  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  /** Prepends the length and key of a length-delimited field whose content was written since `mark`. */
  endLen(field: number, mark: number): void {
    this.varint(this.mark() - mark);
    this.tag(field, WIRE_LEN);
  }

  /** Prepends 8 little-endian bytes from two unsigned 32-bit halves. */
  fixed64Parts(lo: number, hi: number): void {
    const p = this.#take(8);
    this.#view.setUint32(p, lo, true);
    this.#view.setUint32(p + 4, hi, true);
  }

  /** Prepends a fixed64 holding a non-negative integer below 2^64. */
  fixed64(value: number): void {
    this.fixed64Parts(value >>> 0, Math.floor(value / TWO_32) >>> 0);
  }

  /** Prepends an IEEE 754 double, little-endian (NaN and ±Infinity included). */
  double(value: number): void {
    const p = this.#take(8);
    this.#view.setFloat64(p, value, true);
  }

  /** Prepends a string field (wire type 2); lone surrogates become U+FFFD. */
  string(field: number, value: string): void {
    const mark = this.mark();
    const length = value.length;
    // Fast path, one pass: assume ASCII (one byte per UTF-16 unit).
    const start = this.#take(length);
    const buf = this.#buf;
    for (let i = 0; i < length; i++) {
      const c = value.charCodeAt(i);
      if (c >= 0x80) {
        // Not ASCII: give the room back and let TextEncoder write UTF-8.
        const bytes = utf8.encode(value);
        this.#pos = start + length;
        const p = this.#take(bytes.length);
        this.#buf.set(bytes, p);
        break;
      }
      buf[start + i] = c;
    }
    this.endLen(field, mark);
  }

  /** Prepends `length` bytes of `source` from `offset`, as they are (e.g. fields encoded before). */
  raw(source: Uint8Array, offset: number, length: number): void {
    const p = this.#take(length);
    const buf = this.#buf;
    // A loop up to a few hundred bytes: a subarray for set() is an
    // allocation per call, which a field of a few dozen bytes does not repay.
    if (length < 256) {
      for (let i = 0; i < length; i++) buf[p + i] = source[offset + i]!;
    } else buf.set(source.subarray(offset, offset + length), p);
  }

  /** Prepends the bytes a lowercase or uppercase hex string stands for (no length, no key). */
  hex(value: string): void {
    const n = value.length >> 1;
    const p = this.#take(n);
    for (let i = 0; i < n; i++) {
      this.#buf[p + i] = (hexDigit(value.charCodeAt(2 * i)) << 4) |
        hexDigit(value.charCodeAt(2 * i + 1));
    }
  }
}

/** The value of one hex digit's char code (the caller checked the string). */
function hexDigit(c: number): number {
  if (c <= 57) return c - 48; // 0-9
  if (c <= 70) return c - 55; // A-F
  return c - 87; // a-f
}
