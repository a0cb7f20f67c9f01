// The tour's honest fallbacks, in process over the real composed gateway: a step whose tool this build does
// not implement yet says so and the tour goes on (a later step that needs its answer is skipped with a
// note), and a step that fails for a real reason is shown with its code and counted as a failure.
import { describe, expect, it } from "vitest";
import { renderTourText, runTourSteps, type TourGateway } from "../../src/cli/commands/tour.ts";
import { GatewayError } from "../../src/core/gateway-error.ts";
import { testGateway } from "../support/gateway.ts";

/** The gateway with some tools answering as the workflows' placeholder for an unbuilt operation does. */
function withMissing(gateway: TourGateway, missing: readonly string[]): TourGateway {
  return {
    context: (overrides) => gateway.context(overrides),
    dispatch: async (tool, args, context) =>
      missing.includes(tool)
        ? {
            ok: false,
            error: new GatewayError("INTERNAL_ERROR", {
              message: `reads.${tool} is not implemented in this build.`,
            }),
          }
        : gateway.dispatch(tool, args, context),
  };
}

describe("ibkr-agent tour fallbacks", () => {
  it("says a step is not available and goes on when its tool is not implemented", async () => {
    const { gateway } = await testGateway({ frontDoor: "cli" });
    const steps = await runTourSteps(withMissing(gateway, ["ibkr_positions_list", "ibkr_contract_resolve"]));
    expect(steps.flatMap((step) => step.calls.map((c) => [c.tool, c.status]))).toEqual([
      ["ibkr_backend_status", "ok"],
      ["ibkr_accounts_list", "ok"],
      ["ibkr_positions_list", "not_available"],
      ["ibkr_contract_resolve", "not_available"],
    ]);
    const text = await renderTourText(steps);
    expect(text).toContain(
      "This step is not available: ibkr_positions_list is not implemented in this build yet. The tour goes on.",
    );
    expect(text).toContain(
      "This step is not available: ibkr_contract_resolve is not implemented in this build yet. The tour goes on.",
    );
    expect(text).toContain(
      "The quote itself needs the contract id from the resolve step, so it was skipped.",
    );
    expect(text).toContain("\n== Connect an MCP client\n");
    expect(text).toContain("\n== Next steps\n");
  });

  it("shows a real failure with its code and marks the step failed", async () => {
    const { gateway, sim } = await testGateway({ frontDoor: "cli" });
    sim.control.setGatewayDown(true);
    const steps = await runTourSteps(gateway);
    const calls = steps.flatMap((step) => step.calls);
    expect(calls.map((c) => [c.tool, c.status, c.error?.code ?? null])).toEqual([
      ["ibkr_backend_status", "ok", null],
      ["ibkr_accounts_list", "failed", "BROKER_BACKEND_UNAVAILABLE"],
      ["ibkr_contract_resolve", "failed", "BROKER_BACKEND_UNAVAILABLE"],
    ]);
    const text = await renderTourText(steps);
    expect(text).toContain("This step failed: BROKER_BACKEND_UNAVAILABLE:");
    expect(text).toContain(
      "Skipped: no account was listed in step 2, so there is no account to read positions from.",
    );
  });
});
