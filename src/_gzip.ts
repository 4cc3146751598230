/**
 * Gzip of a whole body with the web's `CompressionStream`, where the runtime
 * has one: the OTLP exporter's `compression: "gzip"` and the packed
 * snapshots workers send each other.
 *
 * @module
 */

/** Whether this runtime can gzip (`CompressionStream` exists). */
export function canGzip(): boolean {
  return typeof CompressionStream === "function";
}

/** `data` gzipped; call only where {@linkcode canGzip} is true. */
export async function gzip(data: Uint8Array | string): Promise<Uint8Array> {
  const stream = new Blob([data as BlobPart]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
