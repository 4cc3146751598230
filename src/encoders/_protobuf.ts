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
 * buffer, so marks (distances from the end) stay valid. No allocation happens
 * per field: doubles go through one shared scratch `Float64Array`, strings are
 * UTF-8-encoded by hand straight into the buffer.
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
const scratch = new Float64Array(1);
const scratchBytes = new Uint8Array(scratch.buffer);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Writes protobuf fields back to front into a growable buffer. */
export class ProtoWriter {
  #buf: Uint8Array;
  /** Index of the first written byte; content is `#buf[#pos..]`. */
  #pos: number;

  /** Starts with `initialSize` bytes of room (it grows when needed). */
  constructor(initialSize = 4096) {
    this.#buf = new Uint8Array(Math.max(16, initialSize));
    this.#pos = this.#buf.length;
  }

  /** How many bytes have been written so far: a mark for {@linkcode lengthSince}. */
  mark(): number {
    return this.#buf.length - this.#pos;
  }

  /** The number of bytes written since `mark`. */
  lengthSince(mark: number): number {
    return this.#buf.length - this.#pos - mark;
  }

  /** The bytes written, as a view (no copy) of the internal buffer. */
  finish(): Uint8Array {
    return this.#buf.subarray(this.#pos);
  }

  #ensure(n: number): void {
    if (this.#pos >= n) return;
    const used = this.#buf.length - this.#pos;
    let size = this.#buf.length * 2;
    while (size - used < n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(this.#pos), size - used);
    this.#buf = next;
    this.#pos = size - used;
  }

  /** Prepends an unsigned varint; `value` must be an integer in [0, 2^53). */
  varint(value: number): void {
    if (value < 128) {
      // the common case: one byte (tags, enums, short lengths)
      this.#ensure(1);
      this.#buf[--this.#pos] = value;
      return;
    }
    this.#ensure(10);
    // Count the bytes first, then fill them front to back at the new start.
    let n = 1;
    let v = value;
    while (v >= 128) {
      v = Math.floor(v / 128);
      n++;
    }
    let p = this.#pos - n;
    this.#pos = p;
    const buf = this.#buf;
    v = value;
    while (v >= 128) {
      buf[p++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    buf[p] = v;
  }

  /** Prepends an unsigned 64-bit varint given as two unsigned 32-bit halves. */
  varint64(lo: number, hi: number): void {
    this.#ensure(10);
    let n = 1;
    let l = lo;
    let h = hi;
    while (h !== 0 || l >= 128) {
      l = ((l >>> 7) | (h << 25)) >>> 0;
      h = h >>> 7;
      n++;
    }
    let p = this.#pos - n;
    this.#pos = p;
    const buf = this.#buf;
    l = lo;
    h = hi;
    while (h !== 0 || l >= 128) {
      buf[p++] = (l & 127) | 128;
      l = ((l >>> 7) | (h << 25)) >>> 0;
      h = h >>> 7;
    }
    buf[p] = l;
  }

  /** Prepends a field key: `(field << 3) | wireType`. */
  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  /** Prepends the length and key of a length-delimited field whose content was written since `mark`. */
  endLen(field: number, mark: number): void {
    this.varint(this.lengthSince(mark));
    this.tag(field, WIRE_LEN);
  }

  /** Prepends 8 little-endian bytes from two unsigned 32-bit halves. */
  fixed64Parts(lo: number, hi: number): void {
    this.#ensure(8);
    const buf = this.#buf;
    const p = this.#pos - 8;
    this.#pos = p;
    buf[p] = lo;
    buf[p + 1] = lo >>> 8;
    buf[p + 2] = lo >>> 16;
    buf[p + 3] = lo >>> 24;
    buf[p + 4] = hi;
    buf[p + 5] = hi >>> 8;
    buf[p + 6] = hi >>> 16;
    buf[p + 7] = hi >>> 24;
  }

  /** Prepends a fixed64 holding a non-negative integer below 2^53. */
  fixed64(value: number): void {
    this.fixed64Parts(value >>> 0, Math.floor(value / TWO_32) >>> 0);
  }

  /** Prepends an IEEE 754 double, little-endian (NaN and ±Infinity included). */
  double(value: number): void {
    this.#ensure(8);
    scratch[0] = value;
    const buf = this.#buf;
    const p = this.#pos - 8;
    this.#pos = p;
    if (littleEndian) {
      for (let i = 0; i < 8; i++) buf[p + i] = scratchBytes[i]!;
    } else {
      for (let i = 0; i < 8; i++) buf[p + i] = scratchBytes[7 - i]!;
    }
  }

  /** Prepends a string's UTF-8 bytes (no length, no key); lone surrogates become U+FFFD. */
  utf8(value: string): void {
    const length = value.length;
    // Fast path, one pass: assume ASCII (one byte per UTF-16 unit).
    this.#ensure(length * 3);
    const start = this.#pos - length;
    {
      const buf = this.#buf;
      let i = 0;
      for (; i < length; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + i] = c;
      }
      if (i === length) {
        this.#pos = start;
        return;
      }
    }
    const n = utf8Length(value);
    const buf = this.#buf;
    let p = this.#pos - n;
    this.#pos = p;
    for (let i = 0; i < value.length; i++) {
      let c = value.charCodeAt(i);
      if (c < 0x80) {
        buf[p++] = c;
      } else if (c < 0x800) {
        buf[p++] = 0xc0 | (c >> 6);
        buf[p++] = 0x80 | (c & 63);
      } else {
        if (c >= 0xd800 && c <= 0xdfff) {
          const d = i + 1 < value.length ? value.charCodeAt(i + 1) : 0;
          if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
            i++;
            c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
            buf[p++] = 0xf0 | (c >> 18);
            buf[p++] = 0x80 | ((c >> 12) & 63);
            buf[p++] = 0x80 | ((c >> 6) & 63);
            buf[p++] = 0x80 | (c & 63);
            continue;
          }
          c = 0xfffd;
        }
        buf[p++] = 0xe0 | (c >> 12);
        buf[p++] = 0x80 | ((c >> 6) & 63);
        buf[p++] = 0x80 | (c & 63);
      }
    }
  }

  /** Prepends a string field (wire type 2). */
  string(field: number, value: string): void {
    const mark = this.mark();
    this.utf8(value);
    this.endLen(field, mark);
  }

  /** Prepends the bytes a lowercase or uppercase hex string stands for (no length, no key). */
  hex(value: string): void {
    const n = value.length >> 1;
    this.#ensure(n);
    const buf = this.#buf;
    const p = this.#pos - n;
    this.#pos = p;
    for (let i = 0; i < n; i++) {
      buf[p + i] = (hexDigit(value.charCodeAt(2 * i)) << 4) |
        hexDigit(value.charCodeAt(2 * i + 1));
    }
  }
}

/** The number of bytes `value` takes in UTF-8 (lone surrogates count as U+FFFD, 3 bytes). */
export function utf8Length(value: string): number {
  let n = value.length;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      n += 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length) {
      const d = value.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        // a pair: 2 UTF-16 units → 4 bytes
        n += 2;
        i++;
      } else {
        n += 2;
      }
    } else {
      n += 2;
    }
  }
  return n;
}

function hexDigit(c: number): number {
  if (c <= 57) return c - 48; // 0-9
  if (c <= 70) return c - 55; // A-F
  return c - 87; // a-f
}
