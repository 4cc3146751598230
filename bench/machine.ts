/**
 * What the figures were measured on: the machine and every runtime's
 * version, recorded next to the numbers so a run can be reproduced.
 *
 * @module
 */

/** The machine and runtimes of a run. */
export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  runtimes: Record<string, string>;
}

async function versionOf(command: URL): Promise<string> {
  try {
    const { stdout } = await new Deno.Command(command, {
      args: ["--version"],
      stdout: "piped",
    })
      .output();
    return new TextDecoder().decode(stdout).trim();
  } catch {
    return "not installed";
  }
}

async function cpuModel(): Promise<string> {
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    return info.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** Describes this machine and the runtimes the benchmarks use. */
export async function describeMachine(): Promise<Machine> {
  const tools = new URL("../.tools/node_modules/.bin/", import.meta.url);
  return {
    cpus: navigator.hardwareConcurrency,
    cpuModel: await cpuModel(),
    memoryGiB: Math.round(Deno.systemMemoryInfo().total / 2 ** 30 * 10) / 10,
    os: `${Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}`,
    runtimes: {
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      typescript: Deno.version.typescript,
      bun: await versionOf(new URL("bun", tools)),
      node: await versionOf(new URL("node", tools)),
    },
  };
}
