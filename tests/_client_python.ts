/**
 * client_python's strict OpenMetrics parser (Debian's python3-prometheus-client,
 * installed by `.ci/setup`) as a test peer: the parser that rejects a whole
 * exposition over one broken rule of the specification.
 *
 * @module
 */
import { run } from "./_peers.ts";

/** Debian's interpreter: the one python3-prometheus-client installs into. */
const PYTHON = "/usr/bin/python3";

/**
 * Parses the exposition on stdin and prints every sample as JSON, or the
 * parser's error on stderr with exit code 1.
 */
const PARSE = `
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
try:
    families = list(text_string_to_metric_families(sys.stdin.read()))
except Exception as error:
    print(error, file=sys.stderr)
    sys.exit(1)
print(json.dumps([
    [family.name, family.type,
     [[s.name, s.labels, repr(float(s.value))] for s in family.samples]]
    for family in families
]))
`;

/** One family as client_python read it: name, type and samples. */
export type ParsedFamily = [
  name: string,
  type: string,
  samples: [name: string, labels: Record<string, string>, value: string][],
];

/**
 * Feeds OpenMetrics text to client_python's parser. Resolves with the
 * families it read, or with the error it rejected the exposition with.
 */
export async function clientPythonParse(
  text: string,
): Promise<{ families: ParsedFamily[] } | { error: string }> {
  const { code, stdout, stderr } = await run(PYTHON, ["-c", PARSE], {
    stdin: text,
  });
  if (code !== 0) return { error: stderr.trim() };
  return { families: JSON.parse(stdout) };
}
