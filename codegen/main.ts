// Entry point of `npm run codegen`, `codegen:check` and `codegen:watch`.
//   codegen          validate contracts, regenerate, write files whose bytes differ, remove stale outputs
//   codegen --check  validate and regenerate in memory; exit 1 listing every difference and the fix command
//   codegen --watch  regenerate whenever a file under contracts/ changes
//   --root DIR       work on another checkout (used by the tests on a temporary copy)
import { watch } from "node:fs";
import { join } from "node:path";
import { ContractError, loadContracts, readContractSources } from "./contracts.ts";
import { diffOutputs, writeOutputs } from "./emit.ts";
import { generateAll } from "./generate.ts";
import { validateContracts } from "./validate.ts";

const args = process.argv.slice(2);
const rootIndex = args.indexOf("--root");
const ROOT = (rootIndex >= 0 ? args[rootIndex + 1] : undefined) ?? join(import.meta.dirname, "..");
const FIX_COMMAND = "npm run codegen";

async function run(mode: "write" | "check"): Promise<number> {
  let contracts: ReturnType<typeof loadContracts>;
  try {
    contracts = loadContracts(readContractSources(ROOT));
  } catch (error) {
    if (error instanceof ContractError) {
      process.stderr.write(`codegen: contract error\n  ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  const report = validateContracts(contracts);
  if (report.errors.length > 0) {
    process.stderr.write(`codegen: ${report.errors.length} contract problem(s):\n`);
    for (const error of report.errors) process.stderr.write(`  ${error.message}\n`);
    return 1;
  }
  const files = await generateAll(contracts);
  if (mode === "check") {
    const differences = diffOutputs(ROOT, files);
    if (differences.length === 0) {
      process.stdout.write(`codegen: ${files.length} generated files are up to date\n`);
      return 0;
    }
    process.stderr.write("codegen: generated files are out of date with contracts/:\n");
    for (const difference of differences)
      process.stderr.write(`  ${difference.kind.padEnd(7)} ${difference.path}\n`);
    process.stderr.write(
      `Run \`${FIX_COMMAND}\` and commit the contracts together with the regenerated files.\n`,
    );
    return 1;
  }
  const changed = writeOutputs(ROOT, files);
  process.stdout.write(
    `codegen: ${files.length} files, ${changed.length} written or removed${changed.length ? `: ${changed.map((d) => d.path).join(", ")}` : ""}\n`,
  );
  return 0;
}

async function watchContracts(): Promise<void> {
  await run("write");
  let timer: NodeJS.Timeout | undefined;
  process.stdout.write("codegen: watching contracts/ (Ctrl-C to stop)\n");
  watch(join(ROOT, "contracts"), { recursive: true }, () => {
    clearTimeout(timer);
    // Editors write in bursts; regenerate once the burst settles.
    timer = setTimeout(() => void run("write"), 150);
  });
}

if (args.includes("--watch")) {
  await watchContracts();
} else {
  process.exitCode = await run(args.includes("--check") ? "check" : "write");
}
