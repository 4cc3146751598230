/**
 * A snappy compressor for the block format (no framing), as Prometheus
 * remote write requires for its request bodies (`Content-Encoding: snappy`).
 *
 * The block format is a varint of the uncompressed length followed by
 * elements, each starting with a tag byte whose low two bits say what it is:
 *
 * - `00` literal: the next `n` bytes of input verbatim. `n - 1` fits in the
 *   tag's upper six bits when below 60; otherwise those bits are 60 to 63
 *   and 1 to 4 little-endian bytes after the tag hold `n - 1`.
 * - `01` copy, 1-byte offset: length 4 to 11 in bits 2-4 (`length - 4`),
 *   offset below 2,048: its bits 8-10 in the tag's bits 5-7, its low byte
 *   after the tag.
 * - `10` copy, 2-byte offset: length 1 to 64 in the upper six bits
 *   (`length - 1`), offset below 65,536 in two little-endian bytes.
 * - `11` copy, 4-byte offset: never written here (offsets stay in a block).
 *
 * How matches are found: the input is cut in blocks of 64 KiB, compressed
 * one after another with a fresh hash table, so every offset fits two bytes.
 * Each 4-byte sequence is hashed (a multiplicative hash) into a table of
 * positions; when the sequence at the remembered position is the same, the
 * match is extended as far as the bytes agree and written as copies.
 * Stretches without matches are skipped over faster and faster (one more
 * byte per step every 32 misses), which keeps incompressible data cheap.
 * This is the greedy LZ77 scheme the format was designed around; it needs
 * no allocation besides the output and one table per call.
 *
 * Nothing here runs at import.
 *
 * @module
 */

/** The input is compressed in independent blocks of this size. */
const BLOCK_SIZE = 65536;
/** Below this many bytes a block is all literal: too short to find matches. */
const MIN_MATCH_INPUT = 15;
/** log2 of the largest hash table (16,384 entries). */
const MAX_HASH_BITS = 14;

/**
 * The largest output {@linkcode snappyCompress} can produce for `length`
 * input bytes: the length varint, plus the input as literals with their
 * tags (one tag of up to 5 bytes per 64 KiB block at worst, and one per
 * 60 bytes between copies). Copies never take more bytes than they save.
 */
function maxCompressedLength(length: number): number {
  return 32 + length + Math.ceil(length / 6);
}

/**
 * Compresses `input` in the snappy block format.
 *
 * @param input The bytes to compress (not modified).
 * @returns A new array holding the compressed bytes.
 */
export function snappyCompress(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(maxCompressedLength(input.length));
  // The preamble: the uncompressed length as a varint.
  let op = 0;
  let n = input.length;
  while (n >= 0x80) {
    out[op++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[op++] = n;
  const table = new Uint16Array(1 << MAX_HASH_BITS);
  for (let start = 0; start < input.length; start += BLOCK_SIZE) {
    const end = Math.min(start + BLOCK_SIZE, input.length);
    op = compressBlock(input, start, end, out, op, table);
  }
  return out.slice(0, op);
}

/** Reads 4 bytes little-endian as an unsigned 32-bit number. */
function load32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) |
    (bytes[at + 3]! << 24)) >>> 0;
}

/** The table slot of the 4 bytes at `at`. */
function hash(bytes: Uint8Array, at: number, shift: number): number {
  return Math.imul(load32(bytes, at), 0x1e35a7bd) >>> shift;
}

/**
 * Compresses `input[start..end)` (at most one block) into `out` from `op`,
 * with positions in `table` relative to `start`; returns the new `op`.
 */
function compressBlock(
  input: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  op: number,
  table: Uint16Array,
): number {
  const length = end - start;
  if (length < MIN_MATCH_INPUT) return emitLiteral(input, start, end, out, op);
  // A table no larger than the block needs: less to clear for small inputs.
  let bits = 8;
  while (bits < MAX_HASH_BITS && 1 << bits < length) bits++;
  const shift = 32 - bits;
  table.fill(0, 0, 1 << bits);

  // Matches may start up to 4 bytes before the end (a match needs 4 equal
  // bytes); the last bytes go out as a literal.
  const matchLimit = end - 4;
  let literalStart = start;
  let ip = start + 1;
  for (;;) {
    // Find a 4-byte match, skipping faster the longer none is found.
    let candidate = 0;
    let misses = 32;
    for (;;) {
      if (ip > matchLimit) {
        return emitLiteral(input, literalStart, end, out, op);
      }
      const slot = hash(input, ip, shift);
      candidate = start + table[slot]!;
      table[slot] = ip - start;
      if (candidate < ip && load32(input, candidate) === load32(input, ip)) {
        break;
      }
      ip += misses++ >> 5;
    }
    // Everything between the last match and this one is a literal.
    op = emitLiteral(input, literalStart, ip, out, op);
    // Emit copies while the next position matches again right away.
    for (;;) {
      let matched = 4;
      while (
        ip + matched < end && input[candidate + matched] === input[ip + matched]
      ) {
        matched++;
      }
      op = emitCopy(out, op, ip - candidate, matched);
      ip += matched;
      literalStart = ip;
      if (ip > matchLimit) {
        return emitLiteral(input, literalStart, end, out, op);
      }
      // Remember the position just before, then try the current one.
      table[hash(input, ip - 1, shift)] = ip - 1 - start;
      const slot = hash(input, ip, shift);
      candidate = start + table[slot]!;
      table[slot] = ip - start;
      if (load32(input, candidate) !== load32(input, ip)) break;
    }
    ip++;
  }
}

/** Writes `input[from..to)` as one literal element; returns the new `op`. */
function emitLiteral(
  input: Uint8Array,
  from: number,
  to: number,
  out: Uint8Array,
  op: number,
): number {
  const length = to - from;
  if (length === 0) return op;
  const n = length - 1;
  if (n < 60) {
    out[op++] = n << 2; // tag 00, length - 1 in the upper six bits
  } else if (n < 0x100) {
    out[op++] = 60 << 2; // one length byte follows
    out[op++] = n;
  } else if (n < 0x10000) {
    out[op++] = 61 << 2; // two length bytes follow, little-endian
    out[op++] = n & 0xff;
    out[op++] = n >>> 8;
  } else {
    out[op++] = 62 << 2; // three length bytes follow (a block is ≤ 64 KiB)
    out[op++] = n & 0xff;
    out[op++] = (n >>> 8) & 0xff;
    out[op++] = n >>> 16;
  }
  out.set(input.subarray(from, to), op);
  return op + length;
}

/**
 * Writes a copy of `length` bytes from `offset` bytes back (offset below
 * 65,536, length at least 4) as one or more copy elements.
 */
function emitCopy(
  out: Uint8Array,
  op: number,
  offset: number,
  length: number,
): number {
  // Pieces of 64 while more than 67 remain, so the rest is at least 4 and
  // can take the short form; between 65 and 67 take 60 first.
  while (length >= 68) {
    op = emitCopyPiece(out, op, offset, 64);
    length -= 64;
  }
  if (length > 64) {
    op = emitCopyPiece(out, op, offset, 60);
    length -= 60;
  }
  return emitCopyPiece(out, op, offset, length);
}

/** Writes one copy element of 1 to 64 bytes. */
function emitCopyPiece(
  out: Uint8Array,
  op: number,
  offset: number,
  length: number,
): number {
  if (length >= 4 && length < 12 && offset < 2048) {
    // tag 01: offset bits 8-10 in bits 5-7, length - 4 in bits 2-4
    out[op++] = ((offset >>> 8) << 5) | ((length - 4) << 2) | 1;
    out[op++] = offset & 0xff;
  } else {
    // tag 10: length - 1 in the upper six bits, then the offset, 2 bytes LE
    out[op++] = ((length - 1) << 2) | 2;
    out[op++] = offset & 0xff;
    out[op++] = offset >>> 8;
  }
  return op;
}
