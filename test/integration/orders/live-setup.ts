// Set-up of the live path tests: the live-account scenario with a live configuration, armed by the operator
// (interactive terminal and PIN) on a first gateway; when a test changes the loaded configuration, a second
// gateway on the same home, broker and clock carries the change, so arming was done under the real config.
import type { Config } from "../../../src/config/index.ts";
import { createManualClock } from "../../../src/core/clock.ts";
import type { Gateway } from "../../../src/gateway/index.ts";
import { MARKET_OPEN } from "../../support/simulator.ts";
import {
  LIVE_ACCOUNT,
  type LiveOptions,
  limitBuy,
  liveYaml,
  type OrderGateway,
  ok,
  operatorContext,
  orderGateway,
  PIN,
} from "./harness.ts";

export { policy } from "./harness.ts";

export interface LiveSetup {
  readonly live?: LiveOptions;
  /** Changes the loaded config of the gateway under test (after arming on the unchanged one). */
  readonly patch?: (config: Config) => void;
  /** Arm live trading first (default true). */
  readonly arm?: boolean;
  readonly startAt?: number;
  /** Other gateways will share this one's home and broker. */
  readonly sharedBroker?: boolean;
}

export async function liveGateway(setup: LiveSetup = {}): Promise<OrderGateway> {
  const clock = createManualClock(setup.startAt ?? MARKET_OPEN);
  const first = await orderGateway({
    config: liveYaml(setup.live),
    scenario: "live-account",
    clock,
    sharedBroker: setup.sharedBroker === true || setup.patch !== undefined,
  });
  if (setup.arm !== false) {
    first.gateway.procedures.safety.arm(operatorContext(first.gateway), { pin: PIN }, "checklist done");
  }
  if (setup.patch === undefined) return first;
  return orderGateway({
    config: liveYaml(setup.live),
    home: first.home,
    sim: first.sim,
    clock,
    patch: setup.patch,
  });
}

/** 10 AAPL at 266 on the live account: 32 bps under the simulator's 266.86 midpoint, 2660 USD. */
export const LIVE_BUY = limitBuy("266", { account_id: LIVE_ACCOUNT });

export interface Approved {
  readonly previewId: string;
  readonly approvalId: string;
}

export async function approveLive(
  gateway: Gateway,
  order: Record<string, unknown> = LIVE_BUY,
  approval: Record<string, unknown> = {},
): Promise<Approved> {
  const preview = await ok(gateway, "ibkr_order_preview", order);
  const created = await ok(gateway, "ibkr_approvals_create", {
    account_id: order.account_id,
    preview_id: preview.preview_id,
    ...approval,
  });
  return { previewId: String(preview.preview_id), approvalId: String(created.approval_id) };
}

export function liveSubmitArgs(approved: Approved, key: string): Record<string, unknown> {
  return {
    account_id: LIVE_ACCOUNT,
    approval_id: approved.approvalId,
    preview_id: approved.previewId,
    idempotency_key: key,
  };
}

/** Previews, approves and submits one live order; returns the submit result. */
export async function liveOrder(
  gateway: Gateway,
  key: string,
  order: Record<string, unknown> = LIVE_BUY,
  tool = "ibkr_live_order_submit",
): Promise<Record<string, unknown>> {
  const approved = await approveLive(gateway, order);
  return ok(gateway, tool, liveSubmitArgs(approved, key));
}
