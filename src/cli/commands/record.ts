// `ibkr-agent record`: records a fixed set of read-only calls against a real (paper) Client Portal Gateway
// and writes the redacted answers as wire fixtures (`<operationId>.recorded-<label>.json`), so the contracts
// and the simulator can be checked against what the broker really sends. It never places, modifies or
// cancels an order, never answers a question, never starts or ends a session. See docs/real-gateway.md.
import type { Argv } from "yargs";
import type { Output } from "../output.ts";
import { renderTable } from "../render/table.ts";

interface RecordArgs {
  out: string;
  "base-url": string;
  "ca-file"?: string;
  "allow-insecure-tls-for-localhost"?: boolean;
  account?: string;
}

const SIMULATOR_WARNING =
  "Warning: this gateway is the built-in simulator (its answers carry x-ibkr-simulator: 1). Recordings are " +
  "meant to come from a real Client Portal Gateway; these files only repeat the simulator's own fixtures.";

async function runRecord(args: RecordArgs, output: Output): Promise<void> {
  const { recordGateway } = await import("../../gateway/index.ts");
  if (!output.json) output.text(`Recording read-only calls from ${args["base-url"]} ...`);
  const result = await recordGateway({
    outDir: args.out,
    baseUrl: args["base-url"],
    ...(args["ca-file"] !== undefined ? { caFile: args["ca-file"] } : {}),
    allowInsecureTlsForLocalhost: args["allow-insecure-tls-for-localhost"] === true,
    ...(args.account !== undefined ? { accountId: args.account } : {}),
    // stderr in both modes: a script reading --json from stdout still sees it.
    onSimulated: () => process.stderr.write(`${SIMULATOR_WARNING}\n`),
  });
  if (output.json) {
    output.data({
      out_dir: result.outDir,
      simulated: result.simulated,
      account: result.account,
      calls: result.calls.map((call) => ({
        operation_id: call.operationId,
        label: call.label,
        status: call.status,
        file: call.file,
        note: call.note,
      })),
      redacted: result.redacted,
    });
    return;
  }
  output.text(
    renderTable(result.calls, [
      { header: "OPERATION", value: (c) => c.operationId },
      { header: "STATUS", value: (c) => (c.status === null ? "-" : String(c.status)), align: "right" },
      { header: "FILE", value: (c) => c.file ?? "-" },
      { header: "NOTE", value: (c) => c.note ?? "" },
    ]),
  );
  const written = result.calls.filter((c) => c.file !== null).length;
  const replaced = Object.entries(result.redacted)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${n} ${kind}`)
    .join(", ");
  output.text("");
  output.text(`${written} files written to ${result.outDir}`);
  if (result.account !== null) output.text(`Account recorded as ${result.account}.`);
  output.text(`Redacted: ${replaced === "" ? "nothing found" : replaced}.`);
  output.text("Review every file before committing it: redaction is thorough, not infallible.");
  if (result.simulated) output.text("Source: the built-in simulator, not a real gateway (see the warning).");
}

export function recordCommand(yargs: Argv, output: () => Output): Argv {
  return yargs.command(
    "record",
    "Record redacted read-only answers of a real Client Portal Gateway as wire fixtures",
    (y) =>
      y
        .option("out", {
          type: "string",
          demandOption: true,
          describe: "Directory for the recorded fixtures (created if missing)",
        })
        .option("base-url", {
          type: "string",
          default: "https://localhost:5000/v1/api",
          describe: "Base URL of the Client Portal Gateway API",
        })
        .option("ca-file", {
          type: "string",
          describe: "PEM certificate of the gateway to trust (pinning; recommended)",
        })
        .option("allow-insecure-tls-for-localhost", {
          type: "boolean",
          describe: "Skip certificate checks; only for localhost, 127.0.0.1 or [::1]",
        })
        .option("account", {
          type: "string",
          describe: "Account for the account calls (default: the first one the gateway lists)",
        })
        .example("$0 record --out fixtures-recorded/ --ca-file gateway.pem", "Record from a local gateway")
        .example(
          "$0 record --out fixtures-recorded/ --allow-insecure-tls-for-localhost",
          "Same, trusting the local gateway's self-signed certificate without pinning it",
        ),
    (argv) => runRecord(argv as unknown as RecordArgs, output()),
  );
}
