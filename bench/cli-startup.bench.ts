// CLI cold start, every run a fresh process: `ibkr-agent --version` (issue: at most 4x `node -e 0`) and
// `ibkr-agent accounts list --json` on the built-in simulator (issue: at most 8x), which loads the
// gateway, opens the audit store, asks the simulated broker and appends one audit event. Measured on the
// command users install - the bundled dist/cli/bin.js, built first - and, for information, from source.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { interleave, report } from "./harness.ts";

const ROOT = join(import.meta.dirname, "..");

function spawnTimed(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return async () => {
    const result = spawnSync(process.execPath, args, { cwd: ROOT, stdio: "ignore", env });
    if (result.status !== 0) throw new Error(`${args.join(" ")} exited ${result.status}`);
  };
}

export async function run(): Promise<boolean> {
  const built = spawnSync(process.execPath, [join(ROOT, "scripts/build.ts")], { cwd: ROOT, stdio: "ignore" });
  if (built.status !== 0) throw new Error("npm run build failed");
  const bin = join(ROOT, "dist/cli/bin.js");
  const source = join(ROOT, "src/cli/bin.ts");
  const baseline = { name: "node -e 0", run: spawnTimed(["-e", "0"]) };
  const version = await interleave(
    { name: "ibkr-agent --version", run: spawnTimed([bin, "--version"]) },
    baseline,
    { runs: 20, warmup: 2 },
  );
  const versionMet = report({
    title: "CLI cold start (issue: at most 4x node -e 0)",
    ...version,
    maxRatio: 4,
    unit: "ms",
  });
  const home = mkdtempSync(join(tmpdir(), "ibkr-cli-bench-"));
  try {
    const env = { ...process.env, IBKR_AGENT_HOME: home, IBKR_AGENT_CONFIG: "" };
    const accounts = await interleave(
      { name: "ibkr-agent accounts list --json", run: spawnTimed([bin, "accounts", "list", "--json"], env) },
      baseline,
      { runs: 15, warmup: 2 },
    );
    const accountsMet = report({
      title: "CLI tool command on the simulator (issue: at most 8x node -e 0)",
      ...accounts,
      maxRatio: 8,
      unit: "ms",
      notes: ["the installed command: the bundled dist/cli/bin.js"],
    });
    const fromSource = await interleave(
      {
        name: "node src/cli/bin.ts accounts list --json",
        run: spawnTimed([source, "accounts", "list", "--json"], env),
      },
      baseline,
      { runs: 10, warmup: 1 },
    );
    report({
      title: "The same command from a checkout (information only: type stripping, thousands of modules)",
      ...fromSource,
      unit: "ms",
    });
    return versionMet && accountsMet;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
