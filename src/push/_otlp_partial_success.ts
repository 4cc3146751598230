/**
 * Reading an OTLP collector's answer for the data points it refused
 * (`partialSuccess` of an ExportMetricsServiceResponse), in JSON or
 * protobuf.
 *
 * @module
 */

/** What an OTLP answer says about data points it refused. */
export interface PartialSuccess {
  rejected: number;
  message: string;
}

/**
 * Reads `partialSuccess` from an ExportMetricsServiceResponse, JSON or
 * protobuf; `undefined` when the answer carries none or cannot be read.
 */
export function readPartialSuccess(
  body: Uint8Array,
  contentType: string,
): PartialSuccess | undefined {
  if (body.length === 0) return undefined;
  try {
    if (contentType.includes("json")) {
      const parsed = JSON.parse(new TextDecoder().decode(body)) as {
        partialSuccess?: {
          rejectedDataPoints?: unknown;
          errorMessage?: unknown;
        };
      };
      const partial = parsed?.partialSuccess;
      if (partial === undefined || partial === null) return undefined;
      return {
        rejected: Number(partial.rejectedDataPoints ?? 0) || 0,
        message: typeof partial.errorMessage === "string"
          ? partial.errorMessage
          : "",
      };
    }
    // ExportMetricsServiceResponse: partial_success = 1 (LEN) →
    // ExportMetricsPartialSuccess: rejected_data_points = 1 (VARINT int64),
    // error_message = 2 (LEN string).
    const outer = readFields(body);
    const inner = outer.get(1);
    if (!(inner instanceof Uint8Array)) return undefined;
    const fields = readFields(inner);
    const rejected = fields.get(1);
    const message = fields.get(2);
    return {
      rejected: typeof rejected === "number" ? rejected : 0,
      message: message instanceof Uint8Array
        ? new TextDecoder().decode(message)
        : "",
    };
  } catch {
    return undefined;
  }
}

/** Reads the top-level VARINT and LEN fields of a protobuf message (last one wins). */
function readFields(bytes: Uint8Array): Map<number, number | Uint8Array> {
  const fields = new Map<number, number | Uint8Array>();
  let at = 0;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (;;) {
      const byte = bytes[at++];
      if (byte === undefined) throw new RangeError("truncated varint");
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
  };
  while (at < bytes.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    switch (tag & 7) {
      case 0:
        fields.set(field, varint());
        break;
      case 1:
        at += 8;
        break;
      case 2: {
        const length = varint();
        if (at + length > bytes.length) throw new RangeError("truncated field");
        fields.set(field, bytes.subarray(at, at + length));
        at += length;
        break;
      }
      case 5:
        at += 4;
        break;
      default:
        throw new RangeError("unsupported wire type");
    }
  }
  return fields;
}
