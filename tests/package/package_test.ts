/**
 * The npm package as a user gets it: `deno task build`, `npm pack`, then
 * `npm install` of the tarball into a fresh project, used from Node 22 and
 * Node 26 with type stripping off, Bun, a Cloudflare Worker bundled by
 * esbuild and run in workerd (miniflare), and a TypeScript file type-checked
 * by tsc against the package's declarations.
 *
 * @module
 */

import assert from "node:assert/strict";
import { build } from "../../.ci/build.ts";
import {
  answers,
  freePort,
  REPO_ROOT,
  run,
  startPeer,
  TOOLS_BIN,
} from "../_peers.ts";

const NODE26 = `${TOOLS_BIN}node`;
const NODE22 =
  new URL("../../.tools/node_modules/node22/bin/node", import.meta.url)
    .pathname;
const BUN = `${TOOLS_BIN}bun`;
const HERE = new URL("./", import.meta.url);
const PACKAGE = "@edgemetrics/edgemetrics";

/** What every consumer must read back from the recorded values. */
const EXPECTED_TEXT = [
  "# HELP http_requests_total Total HTTP requests.",
  "# TYPE http_requests_total counter",
  'http_requests_total{method="GET",status="200"} 3',
  'http_requests_total{method="POST",status="500"} 1',
  "# HELP http_request_duration_seconds Request latency.",
  "# TYPE http_request_duration_seconds histogram",
  'http_request_duration_seconds_bucket{le="0.1"} 1',
  'http_request_duration_seconds_bucket{le="0.5"} 2',
  'http_request_duration_seconds_bucket{le="+Inf"} 2',
  "http_request_duration_seconds_sum 0.25",
  "http_request_duration_seconds_count 2",
  "",
].join("\n");

async function ok(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<string> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(
      `${command} ${
        args.join(" ")
      } exited ${result.code}:\n${result.stdout}${result.stderr}`,
    );
  }
  return result.stdout;
}

/** Files of the packed tarball, as `npm pack --json` lists them. */
interface Packed {
  filename: string;
  files: { path: string }[];
}

Deno.test("npm package: the packed tarball installs and works in Node 22 and 26 (no type stripping), Bun, workerd and tsc", async (t) => {
  const work = await Deno.makeTempDir({ prefix: "edgemetrics-package-" });
  const project = `${work}/user`;
  try {
    // Built aside, so the test leaves a developer's dist/ alone.
    const built = await build(new URL(`file://${work}/package/`));
    await Deno.mkdir(project);
    // npm pack and npm install, as a publisher and a user would.
    const packed: Packed[] = JSON.parse(
      await ok("npm", [
        "pack",
        "--json",
        "--pack-destination",
        project,
        built.dir.pathname,
      ], { env: { NO_COLOR: "1", PATH: Deno.env.get("PATH") ?? "" } }),
    );
    const files = packed[0]!.files.map((f) => f.path).sort();

    await t.step(
      "package.json: ESM, exports types first, no side effects, no dependencies",
      () => {
        const pkg = built.packageJson;
        assert.equal(pkg.name, PACKAGE);
        assert.equal(pkg.type, "module");
        assert.equal(pkg.sideEffects, false);
        assert.equal(pkg.license, "MIT");
        assert.deepEqual(pkg.engines, { node: ">=22" });
        assert.equal(pkg.dependencies, undefined);
        const exports = pkg.exports as Record<string, Record<string, string>>;
        for (const entry of built.entries) {
          assert.deepEqual(Object.keys(exports[entry.subpath]!), [
            "types",
            "default",
          ]);
        }
        // One package entry per entry of deno.json's exports, in its order.
        const config = JSON.parse(
          Deno.readTextFileSync(`${REPO_ROOT}deno.json`),
        ) as { exports: Record<string, string> };
        assert.deepEqual(
          built.entries.map((e) => e.subpath),
          Object.keys(config.exports),
        );
      },
    );

    await t.step(
      "tarball: built .js with maps and .d.ts, README, LICENSE, no .ts source",
      () => {
        for (
          const path of [
            "package.json",
            "README.md",
            "LICENSE",
            "edgemetrics.js",
            "edgemetrics.js.map",
            "pull.js",
            "push.js",
            "otel.js",
            "types/mod.d.ts",
            "types/src/pull.d.ts",
            "types/src/push.d.ts",
            "types/src/otel.d.ts",
          ]
        ) assert.ok(files.includes(path), `${path} missing from ${files}`);
        const sources = files.filter((f) =>
          f.endsWith(".ts") && !f.endsWith(".d.ts")
        );
        assert.deepEqual(sources, []);
      },
    );

    await Deno.writeTextFile(
      `${project}/package.json`,
      JSON.stringify({ name: "a-user", private: true, type: "module" }),
    );
    await ok("npm", [
      "install",
      "--no-audit",
      "--no-fund",
      "--offline",
      `./${packed[0]!.filename}`,
    ], { cwd: project });
    for (const file of ["user.mjs", "worker.mjs", "consumer.ts"]) {
      await Deno.copyFile(new URL(file, HERE), `${project}/${file}`);
    }

    const runUser = async (command: string, args: string[]) => {
      const out = JSON.parse(
        await ok(command, [...args, "user.mjs"], { cwd: project }),
      );
      assert.deepEqual(out, {
        status: 200,
        contentType: "text/plain; version=0.0.4; charset=utf-8",
        text: EXPECTED_TEXT,
        otlp: ["http_requests", "http_request_duration_seconds"],
      });
    };
    for (const [name, node] of [["Node 22", NODE22], ["Node 26", NODE26]]) {
      await t.step(
        `${name}: imports every entry with type stripping off, scrapes and pushes`,
        async () => {
          await runUser(node!, ["--no-experimental-strip-types"]);
        },
      );
    }
    await t.step(
      "Bun: imports every entry, scrapes and pushes",
      async () => {
        await runUser(BUN, ["run"]);
      },
    );

    await t.step(
      "Cloudflare Worker: esbuild bundles only what it uses, workerd serves /metrics",
      async () => {
        await ok(`${TOOLS_BIN}esbuild`, [
          "worker.mjs",
          "--bundle",
          "--format=esm",
          "--platform=browser",
          "--conditions=workerd,worker",
          "--minify",
          "--outfile=worker.bundle.js",
        ], { cwd: project });
        // Imported from the main entry, the Worker ships only what it uses:
        // sideEffects: false and no module-scope work let esbuild drop the
        // rest (each named by a string only its code holds).
        const shipped = await Deno.readTextFile(`${project}/worker.bundle.js`);
        assert.ok(shipped.includes("text/plain; version=0.0.4"));
        const unused = [
          "OtlpExporter", // push
          "x-protobuf", // the OTLP encoders
          "maxAgeSeconds", // Summary
          "BroadcastChannel", // WorkerAggregator
        ];
        for (const text of unused) {
          assert.ok(!shipped.includes(text), `the pull Worker ships ${text}`);
        }
        const port = freePort();
        const server = await startPeer(NODE26, [
          "tests/runtimes/miniflare_driver.ts",
          `${project}/worker.bundle.js`,
          `${port}`,
        ], {
          cwd: REPO_ROOT,
          env: { NO_COLOR: "1" },
          ready: () => answers(`http://127.0.0.1:${port}/metrics`),
        });
        try {
          const base = `http://127.0.0.1:${port}`;
          const recorded = await fetch(`${base}/record`, { method: "POST" });
          assert.equal(await recorded.text(), "recorded\n");
          const response = await fetch(`${base}/metrics`, {
            headers: { "Accept-Encoding": "identity" },
          });
          assert.equal(response.status, 200);
          assert.equal(await response.text(), EXPECTED_TEXT);
        } finally {
          await server.stop();
        }
      },
    );

    await t.step(
      "Deno: the one-file build type-checks through @ts-self-types and runs",
      async () => {
        const oneFile = `${project}/node_modules/${PACKAGE}/edgemetrics.js`;
        const head = (await Deno.readTextFile(oneFile)).slice(0, 60);
        assert.match(
          head,
          /^\/\* @ts-self-types="\.\/edgemetrics\.types\/mod\.d\.ts" \*\//,
        );
        const script = `${project}/one_file.ts`;
        await Deno.writeTextFile(
          script,
          `import { Counter, Registry } from ${JSON.stringify(oneFile)};\n` +
            "const registry = new Registry();\n" +
            'const c = new Counter({ name: "a_total", help: "A.", labelNames: ["k"] as const, registry });\n' +
            'c.inc({ k: "v" }, 2);\n' +
            '// @ts-expect-error: the types came with the file: no label "x"\n' +
            'if (false) c.inc({ x: "v" });\n' +
            "console.log(await registry.metrics());\n",
        );
        const denoArgs = ["--quiet", "--no-config", "--no-lock"];
        await ok(Deno.execPath(), ["check", ...denoArgs, script], {
          cwd: project,
        });
        const out = await ok(Deno.execPath(), ["run", ...denoArgs, script], {
          cwd: project,
        });
        assert.equal(
          out,
          '# HELP a_total A.\n# TYPE a_total counter\na_total{k="v"} 2\n\n',
        );
      },
    );

    for (
      const [resolution, options] of [
        ["bundler", {
          module: "preserve",
          moduleResolution: "bundler",
          lib: ["es2022", "dom", "dom.iterable"],
          types: [],
        }],
        ["nodenext", {
          module: "nodenext",
          moduleResolution: "nodenext",
          lib: ["es2022"],
          types: ["node"],
          typeRoots: [
            new URL("../../.tools/node_modules/@types/", import.meta.url)
              .pathname,
          ],
        }],
      ] as const
    ) {
      await t.step(
        `TypeScript: a strict consumer type-checks against the .d.ts (moduleResolution ${resolution})`,
        async () => {
          const config = `${project}/tsconfig.${resolution}.json`;
          await Deno.writeTextFile(
            config,
            JSON.stringify({
              compilerOptions: {
                target: "es2022",
                strict: true,
                noEmit: true,
                skipLibCheck: false,
                ...options,
              },
              files: ["consumer.ts"],
            }),
          );
          await ok(`${TOOLS_BIN}tsc`, ["-p", config], { cwd: project });
        },
      );
    }
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});
