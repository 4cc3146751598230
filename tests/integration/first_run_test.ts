/**
 * A newcomer's first command, `deno task demo`, on a machine that has never
 * run Deno: it must download nothing (the module has no dependencies; the
 * npm peers that tests and benches compare against live in `.tools/`).
 *
 * `deno task` installs every package of the project's config and lockfile
 * before it runs anything, so a peer listed there would be fetched here.
 */

import assert from "node:assert/strict";
import { answers, freePort, REPO_ROOT, startPeer } from "../_peers.ts";

/** The packages and modules a Deno cache folder holds after a run. */
async function fetched(denoDir: string): Promise<string[]> {
  const found: string[] = [];
  for (const folder of ["npm", "remote", "deps"]) {
    const walk = async (path: string, depth: number): Promise<void> => {
      let entries: Deno.DirEntry[];
      try {
        entries = await Array.fromAsync(Deno.readDir(path));
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) return;
        throw error;
      }
      for (const entry of entries) {
        const child = `${path}/${entry.name}`;
        if (entry.isDirectory && depth > 0) await walk(child, depth - 1);
        else found.push(child.slice(denoDir.length + 1));
      }
    };
    // npm/<registry>/<package>(/<@scope package>): three levels name a package.
    await walk(`${denoDir}/${folder}`, 2);
  }
  return found;
}

Deno.test("deno task demo on an empty DENO_DIR fetches no package and prints no warning", async () => {
  const config = JSON.parse(
    await Deno.readTextFile(`${REPO_ROOT}deno.json`),
  ) as { tasks: Record<string, string> };
  const demo = config.tasks.demo ?? "";
  assert.ok(demo.includes("--port 8000"), `demo task: ${demo}`);
  // The demo's own command, on a free port so that a busy 8000 cannot fail
  // the test; `deno task --eval` installs exactly as `deno task demo` does.
  const port = freePort();
  const denoDir = await Deno.makeTempDir({ prefix: "edgemetrics_first_run_" });
  try {
    const server = await startPeer(
      Deno.execPath(),
      ["task", "--eval", demo.replace("--port 8000", `--port ${port}`)],
      {
        env: { DENO_DIR: denoDir, NO_COLOR: "1" },
        ready: () => answers(`http://127.0.0.1:${port}/health`),
        readyTimeoutMs: 60_000,
      },
    );
    await server.stop();
    const output = server.output();
    const packages = await fetched(denoDir);
    console.log(
      `first run: deno task demo fetched ${packages.length} packages`,
    );
    assert.deepEqual(packages, [], `fetched on first run:\n${output}`);
    assert.doesNotMatch(output, /Download|Warning|build scripts/i, output);
  } finally {
    await Deno.remove(denoDir, { recursive: true });
  }
});
