/**
 * HTTP basic and bearer authentication for push exporters: the `auth`
 * option turned into an `Authorization` header, checked when the exporter
 * is created.
 *
 * @module
 */

import { checkHeaders } from "./_delivery_options.ts";

/** Basic (`{ username, password }`) or bearer (`{ bearer }`) credentials. */
export type PushAuth =
  | { readonly username: string; readonly password: string }
  | { readonly bearer: string };

/**
 * Sets `Authorization` on `headers` from `auth` (nothing when it is
 * undefined). Credentials are never quoted in errors.
 *
 * @throws {TypeError} When `auth` has neither shape, or `headers` already
 * hold an `Authorization` header.
 */
export function applyAuth(
  owner: string,
  auth: PushAuth | undefined,
  headers: Headers,
): void {
  if (auth === undefined) return;
  const keys = typeof auth === "object" && auth !== null
    ? JSON.stringify(Object.keys(auth))
    : typeof auth;
  if (headers.has("authorization")) {
    throw new TypeError(
      `Cannot create ${owner}: give auth or an Authorization header, not both, got auth with keys ${keys} and an Authorization header`,
    );
  }
  if (typeof auth === "object" && auth !== null) {
    if ("bearer" in auth && typeof auth.bearer === "string") {
      const authorization = { authorization: `Bearer ${auth.bearer}` };
      checkHeaders(owner, authorization);
      headers.set("authorization", authorization.authorization);
      return;
    }
    if (
      "username" in auth && typeof auth.username === "string" &&
      typeof auth.password === "string"
    ) {
      headers.set(
        "authorization",
        `Basic ${base64(`${auth.username}:${auth.password}`)}`,
      );
      return;
    }
  }
  throw new TypeError(
    `Cannot create ${owner}: auth must be { username, password } or { bearer }, got keys ${keys}`,
  );
}

/** Standard base64 of the UTF-8 bytes of `text`. */
export function base64(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) {
    binary += String.fromCharCode(byte);
  }
  return btoa(binary);
}
