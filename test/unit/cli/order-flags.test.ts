// The order commands' flags as the CLI turns them into a call: guard flags refused with the seed's codes,
// --live-broker mapped to the call's live writer (a rehearsal unless told client-portal), --acknowledge to
// the approval's question ids, and --cancel-open accepted by kill-switch engage without reaching the tool.
import { describe, expect, it } from "vitest";
import yargs from "yargs";
import type { ParsedArgs } from "../../../generated/bindings/cli.gen.ts";
import type { ToolName } from "../../../generated/tools/registry.gen.ts";
import { killSwitchExtension } from "../../../src/cli/commands/kill-switch.ts";
import { ordersExtension } from "../../../src/cli/commands/orders.ts";
import { guardRefusal } from "../../../src/cli/guard.ts";
import { liveWriterFor } from "../../../src/cli/live-broker.ts";
import { type AdaptToolModule, registerToolCommands } from "../../../src/cli/tool-commands.ts";

const adapt: AdaptToolModule = (command, module) => {
  const byWord = command.path[0] === "orders" ? ordersExtension : killSwitchExtension;
  return byWord.adapt?.(command, module) ?? module;
};

async function parse(argv: string[]) {
  const calls: { tool: ToolName; args: Record<string, unknown>; argv: ParsedArgs }[] = [];
  const cli = yargs(argv)
    .strict()
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new Error(message);
    });
  registerToolCommands(
    cli,
    async (tool, args, parsed) => {
      calls.push({ tool, args, argv: parsed });
    },
    adapt,
  );
  await cli.parseAsync();
  const [call] = calls;
  if (call === undefined) throw new Error("no command ran");
  return call;
}

const LIVE_SUBMIT = [
  "orders",
  "live-submit",
  "--account",
  "U1234567",
  "--preview-id",
  "pv_01JD8X7Q2M3N4P5R6S",
  "--approval-id",
  "ap_01JD8X7Q2M3N4P5R6S",
  "--idempotency-key",
  "live-0001",
];

describe("guard flags", () => {
  it("refuses a preview without --enable-preview with ORDER_PREVIEW_DISABLED", () => {
    const error = guardRefusal("ibkr_order_preview", {});
    expect([error?.code, error?.message, error?.userAction]).toEqual([
      "ORDER_PREVIEW_DISABLED",
      "ibkr-agent orders preview needs --enable-preview to confirm you mean it; nothing was sent.",
      "Add --enable-preview to the command.",
    ]);
  });

  it("refuses every paper write without --enable-paper with PAPER_TRADING_DISABLED", () => {
    for (const tool of [
      "ibkr_paper_order_submit",
      "ibkr_paper_bracket_order_submit",
      "ibkr_paper_order_modify",
      "ibkr_paper_order_cancel",
    ] as const) {
      expect(guardRefusal(tool, { "enable-preview": true })?.code).toBe("PAPER_TRADING_DISABLED");
    }
  });

  it("lets a command with its guard flag, or one without a guard, through", () => {
    expect(guardRefusal("ibkr_paper_order_submit", { "enable-paper": true })).toBeNull();
    expect(guardRefusal("ibkr_live_order_submit", {})).toBeNull();
  });
});

describe("--live-broker", () => {
  it("rehearses by default", async () => {
    const call = await parse(LIVE_SUBMIT);
    expect(call.tool).toBe("ibkr_live_order_submit");
    expect(liveWriterFor(call.tool, call.argv)).toBe("local_candidate");
    expect(call.args).toEqual({
      account_id: "U1234567",
      preview_id: "pv_01JD8X7Q2M3N4P5R6S",
      approval_id: "ap_01JD8X7Q2M3N4P5R6S",
      idempotency_key: "live-0001",
    });
  });

  it("maps client-portal to the broker writer and refusing to the refusing writer", async () => {
    const broker = await parse([...LIVE_SUBMIT, "--live-broker", "client-portal"]);
    expect(liveWriterFor(broker.tool, broker.argv)).toBe("broker");
    const refusing = await parse([...LIVE_SUBMIT, "--live-broker", "refusing"]);
    expect(liveWriterFor(refusing.tool, refusing.argv)).toBe("refusing");
  });

  it("is offered on all four live commands and nowhere else", async () => {
    const ids = ["--account", "U1234567", "--idempotency-key", "live-0002"];
    const approved = ["--preview-id", "pv_01JD8X7Q2M3N4P5R6S", "--approval-id", "ap_01JD8X7Q2M3N4P5R6S"];
    const commands = [
      ["orders", "live-cancel", ...ids, "--broker-order-id", "1"],
      ["orders", "live-modify", ...ids, ...approved, "--broker-order-id", "1", "--limit-price", "1"],
      ["orders", "live-bracket-submit", ...ids, ...approved],
    ];
    for (const argv of commands) {
      const call = await parse([...argv, "--live-broker", "client-portal"]);
      expect(liveWriterFor(call.tool, call.argv)).toBe("broker");
    }
    await expect(
      parse(["orders", "list", "--account", "DU1234567", "--live-broker", "client-portal"]),
    ).rejects.toThrow("Unknown arguments: live-broker, liveBroker");
  });

  it("refuses an unknown writer name", async () => {
    await expect(parse([...LIVE_SUBMIT, "--live-broker", "tws"])).rejects.toThrow(/Invalid values/);
  });
});

describe("other order flags", () => {
  it("passes --acknowledge as the approval's acknowledged question ids", async () => {
    const call = await parse([
      "approvals",
      "create",
      "--account",
      "DU1234567",
      "--preview-id",
      "pv_01JD8X7Q2M3N4P5R6S",
      "--acknowledge",
      "o163",
      "o354",
    ]);
    expect(call.args).toEqual({
      account_id: "DU1234567",
      preview_id: "pv_01JD8X7Q2M3N4P5R6S",
      acknowledged_question_ids: ["o163", "o354"],
    });
  });

  it("accepts --cancel-open on kill-switch engage and keeps it out of the tool's arguments", async () => {
    const call = await parse(["kill-switch", "engage", "--reason", "flatten everything", "--cancel-open"]);
    expect(call.args).toEqual({ reason: "flatten everything" });
    expect(call.argv["cancel-open"]).toBe(true);
  });
});
