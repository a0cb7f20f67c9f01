// CLI cold start: `ibkr-agent --version` against `node -e 0`, both spawned as fresh processes.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { interleave, report } from "./harness.ts";

const ROOT = join(import.meta.dirname, "..");

function spawnTimed(args: string[]) {
  return async () => {
    const result = spawnSync(process.execPath, args, { cwd: ROOT, stdio: "ignore" });
    if (result.status !== 0) throw new Error(`${args.join(" ")} exited ${result.status}`);
  };
}

export async function run(): Promise<boolean> {
  const measured = await interleave(
    { name: "ibkr-agent --version", run: spawnTimed([join(ROOT, "src/cli/bin.ts"), "--version"]) },
    { name: "node -e 0", run: spawnTimed(["-e", "0"]) },
    { runs: 20, warmup: 2 },
  );
  return report({
    title: "CLI cold start (issue: at most 4x node -e 0)",
    ...measured,
    maxRatio: 4,
    unit: "ms",
  });
}
