/**
 * The scenario as a Node user serves it: `PORT=<port> node
 * tests/runtimes/node_entry.ts` (Node 26, and Node 22 from 22.18, strip the
 * types and import `mod.ts` directly; no flag). Node has no fetch-style
 * server, so a few lines adapt `node:http` to the scenario's
 * `(Request) => Response` handler: the adapter belongs to this test entry,
 * never to the module.
 *
 * @module
 */

import { createServer } from "node:http";
import process from "node:process";
import { createScenario } from "./scenario.ts";

const scenario = createScenario("node");

const server = createServer(async (incoming, outgoing) => {
  try {
    const chunks: Uint8Array[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Uint8Array);
    const headers = new Headers();
    for (const [name, value] of Object.entries(incoming.headers)) {
      if (typeof value === "string") headers.set(name, value);
      else if (Array.isArray(value)) headers.set(name, value.join(", "));
    }
    const method = incoming.method ?? "GET";
    const request = new Request(
      `http://${incoming.headers.host ?? "127.0.0.1"}${incoming.url ?? "/"}`,
      {
        method,
        headers,
        ...(method === "GET" || method === "HEAD"
          ? {}
          : { body: new Blob(chunks as BlobPart[]) }),
      },
    );
    const response = await scenario(request);
    const body = new Uint8Array(await response.arrayBuffer());
    outgoing.writeHead(response.status, Object.fromEntries(response.headers));
    outgoing.end(body);
  } catch (error) {
    outgoing.writeHead(500).end(`node adapter: ${error}\n`);
  }
});
server.listen(Number(process.env.PORT), "127.0.0.1", () => {
  console.log(
    `node ${process.version} listening on 127.0.0.1:${process.env.PORT}`,
  );
});
