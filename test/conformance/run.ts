// `npm run conformance`: the MCP conformance server scenarios against our HTTP server, judged against
// test/conformance/expected-failures.yaml. Exits 1 on an unexpected failure or an unexpected pass.
// `--verbose` also prints what the conformance tool prints as it runs; `--scenario NAME` runs one.
import { renderOutcomes, runConformance } from "./conformance.ts";

const args = process.argv.slice(2);
const verbose = args.includes("--verbose");
const scenarioAt = args.indexOf("--scenario");
const scenario = scenarioAt === -1 ? undefined : args[scenarioAt + 1];

const run = await runConformance({
  ...(scenario !== undefined ? { scenario } : {}),
  ...(verbose ? { echo: (text: string) => process.stdout.write(text) } : {}),
});
if (!verbose && run.exitCode !== 0) process.stdout.write(`${run.output}\n`);
process.stdout.write(`${renderOutcomes(run)}\n`);
// The tool's verdict, and ours from the same results: both must agree that nothing is unexpected.
const matched =
  run.exitCode === 0 && run.unexpectedFailures.length === 0 && run.unexpectedPasses.length === 0;
process.exitCode = matched ? 0 : 1;
