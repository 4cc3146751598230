/**
 * examples/prometheus/slo_rules.yml, checked by the real promtool: the
 * rules parse, their unit tests pass, every alert is seen firing and
 * resolving in those tests, and the tests fail when a threshold or window
 * of the rules is changed (so they pin what the rules say).
 */

import assert from "node:assert/strict";
import { REPO_ROOT, run } from "./_peers.ts";

const DIR = `${REPO_ROOT}examples/prometheus/`;
const RULES = "slo_rules.yml";
const TESTS = "slo_rules_test.yml";
const ALERTS = [
  "HTTPAvailabilityBudgetBurnFast",
  "HTTPAvailabilityBudgetBurnSlow",
  "HTTPLatencyBudgetBurnFast",
  "HTTPLatencyBudgetBurnSlow",
];

Deno.test("slo_rules.yml passes promtool check rules: 14 recording rules and 4 alerts", async () => {
  const { code, stdout, stderr } = await run("promtool", [
    "check",
    "rules",
    RULES,
  ], { cwd: DIR });
  assert.equal(code, 0, stdout + stderr);
  assert.match(stdout, /SUCCESS: 18 rules found/);
  const rules = await Deno.readTextFile(DIR + RULES);
  assert.deepEqual(
    [...rules.matchAll(/^\s+- alert: (\w+)$/gm)].map((m) => m[1]),
    ALERTS,
  );
  assert.equal([...rules.matchAll(/^\s+- record: /gm)].length, 14);
});

Deno.test("slo_rules_test.yml passes promtool test rules, and sees each alert fire and then resolve", async () => {
  const { code, stdout, stderr } = await run("promtool", [
    "test",
    "rules",
    TESTS,
  ], { cwd: DIR });
  assert.equal(code, 0, stdout + stderr);
  assert.match(stdout, /SUCCESS/);
  const tests = await Deno.readTextFile(DIR + TESTS);
  for (const alert of ALERTS) {
    // The evaluations of this alert, in file order: firing or not.
    const evaluations = tests.split("- eval_time: ").slice(1)
      .filter((block) => block.includes(`alertname: ${alert}\n`))
      .map((block) => !/exp_alerts: \[\]/.test(block));
    const fired = evaluations.indexOf(true);
    assert.ok(fired >= 0, `${alert} never fires in the tests`);
    assert.ok(
      evaluations.slice(fired).includes(false),
      `${alert} is never seen resolved after firing`,
    );
    assert.equal(evaluations[0], false, `${alert} should start quiet`);
  }
});

Deno.test("slo_rules_test.yml fails when a burn-rate factor, window or bucket of the rules changes", async () => {
  const rules = await Deno.readTextFile(DIR + RULES);
  const tests = await Deno.readTextFile(DIR + TESTS);
  // One change of each kind (promtool takes seconds per run). The 3x
  // ticket clause is never changed: it never fires alone (see the tests).
  const mutants: [string, string][] = [
    ["(14.4 * 0.001)", "(20 * 0.001)"],
    ["(1 * 0.01)", "(3 * 0.01)"],
    ['le="0.3"', 'le="0.5"'],
    [
      "job:http_requests_errors:ratio_rate5m >",
      "job:http_requests_errors:ratio_rate30m >",
    ],
  ];
  const results = await Promise.all(mutants.map(async ([from, to]) => {
    assert.ok(rules.includes(from), `the rules have no ${from}`);
    const dir = await Deno.makeTempDir({ prefix: "edgemetrics-slo-" });
    try {
      await Deno.writeTextFile(`${dir}/${TESTS}`, tests);
      await Deno.writeTextFile(`${dir}/${RULES}`, rules.replaceAll(from, to));
      const { code, stdout, stderr } = await run("promtool", [
        "test",
        "rules",
        TESTS,
      ], { cwd: dir });
      return { change: `${from} → ${to}`, code, output: stdout + stderr };
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }));
  for (const { change, code, output } of results) {
    assert.notEqual(code, 0, `the tests still pass after ${change}`);
    assert.match(output, /FAILED/, change);
  }
});
