// The generated CLI bindings turn flags and positionals into a tool's argument object and nothing more.

import { describe, expect, it } from "vitest";
import yargs from "yargs";
import { registerToolCommands } from "../../src/cli/tool-commands.ts";

async function parse(argv: string[]): Promise<{ tool: string; args: Record<string, unknown> }[]> {
  const calls: { tool: string; args: Record<string, unknown> }[] = [];
  const cli = yargs(argv)
    .strict()
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new Error(message);
    });
  registerToolCommands(cli, async (tool, args) => {
    calls.push({ tool, args });
  });
  await cli.parseAsync();
  return calls;
}

describe("generated CLI bindings", () => {
  const cases: { argv: string[]; tool: string; args: Record<string, unknown> }[] = [
    { argv: ["accounts", "list"], tool: "ibkr_accounts_list", args: {} },
    {
      argv: ["account", "summary", "--account", "DU1234567"],
      tool: "ibkr_account_summary",
      args: { account_id: "DU1234567" },
    },
    {
      argv: ["market", "snapshot", "--contract-id", "265598"],
      tool: "ibkr_market_snapshot",
      args: { contract_id: "265598" },
    },
    {
      argv: ["orders", "status", "--account", "DU1234567", "--broker-order-id", "123"],
      tool: "ibkr_order_status",
      args: { account_id: "DU1234567", broker_order_id: "123" },
    },
    {
      argv: [
        "approvals",
        "create",
        "--account",
        "DU1234567",
        "--preview-id",
        "pv_01JD8X7Q2M3N4P5R6S",
        "--ttl-seconds",
        "300",
      ],
      tool: "ibkr_approvals_create",
      args: { account_id: "DU1234567", preview_id: "pv_01JD8X7Q2M3N4P5R6S", ttl_seconds: 300 },
    },
  ];
  for (const { argv, tool, args } of cases) {
    it(`maps "ibkr-agent ${argv.join(" ")}"`, async () => {
      const calls = await parse(argv);
      expect(calls).toEqual([{ tool, args }]);
    });
  }

  it("keeps decimal flags as exact strings", async () => {
    const calls = await parse([
      "orders",
      "preview",
      "--account",
      "DU1234567",
      "--symbol",
      "AAPL",
      "--side",
      "buy",
      "--quantity",
      "10",
      "--order-type",
      "limit",
      "--limit-price",
      "199.10",
      "--time-in-force",
      "day",
      "--enable-preview",
    ]);
    expect(calls[0]?.args.limit_price).toBe("199.10");
    expect(calls[0]?.args.quantity).toBe("10");
  });

  it("refuses a missing required flag before anything runs", async () => {
    await expect(parse(["account", "summary"])).rejects.toThrow(/Missing required argument: account/);
  });
});
