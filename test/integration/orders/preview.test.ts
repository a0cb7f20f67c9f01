// Previews through gateway.dispatch: every preview-policy refusal reason (each alone, and several at once),
// the validation failures, contract selection, the disabled preview, the broker's what-if figures, the
// stored preview with its expiry, and proof that a preview never sends an order.
import { afterEach, describe, expect, it } from "vitest";
import type { Simulator } from "../../../src/simulator/index.ts";
import { CONFIG_HEADER } from "../../support/gateway.ts";
import {
  closeGateways,
  eventsOf,
  expectSafeStore,
  LIVE_ACCOUNT,
  limitBuy,
  ok,
  orderGateway,
  PAPER_ACCOUNT,
  paperYaml,
  refused,
} from "./harness.ts";

afterEach(closeGateways);

/** Operations that would change something at the broker; a preview must call none of them. */
const WRITES = ["placeOrders", "modifyOrder", "cancelOrder", "replyToQuestion", "answerNotification"];

function writesAtBroker(sim: Simulator): number {
  return WRITES.reduce((sum, id) => sum + sim.control.count(id), 0);
}

interface RefusalRow {
  readonly name: string;
  readonly reasons: readonly string[];
  readonly args: Record<string, unknown>;
  readonly preview?: string;
  readonly scenario?: string;
  /** The account mode the refusal event records. */
  readonly mode?: string;
  readonly before?: (sim: Simulator) => void;
}

const REFUSALS: readonly RefusalRow[] = [
  {
    name: "a live account under a paper-only policy",
    reasons: ["ORDER_ACCOUNT_MODE_REFUSED"],
    scenario: "live-account",
    args: limitBuy("265", { account_id: LIVE_ACCOUNT }),
    mode: "live",
  },
  {
    name: "an account whose broker flag and id prefix disagree (unknown mode)",
    reasons: ["ORDER_ACCOUNT_MODE_REFUSED"],
    args: limitBuy("265"),
    mode: "unknown",
    // The login reports isPaper false for a DU account: the mode cannot be known, so it is refused.
    before: (sim) => {
      (sim.state.accounts.get(PAPER_ACCOUNT) as unknown as { paper: boolean }).paper = false;
    },
  },
  {
    name: "a stock when only ETFs are allowed",
    reasons: ["ORDER_ASSET_CLASS_REFUSED"],
    preview: "  allowed_asset_classes: [etf]\n",
    args: limitBuy("265"),
  },
  { name: "a zero quantity", reasons: ["ORDER_QUANTITY_INVALID"], args: limitBuy("265", { quantity: "0" }) },
  {
    name: "a fractional quantity",
    reasons: ["ORDER_FRACTIONAL_REFUSED"],
    args: limitBuy("265", { quantity: "1.5" }),
  },
  {
    name: "a quantity above max_order_quantity",
    reasons: ["ORDER_QUANTITY_LIMIT_REFUSED"],
    preview: '  max_order_quantity: "5"\n',
    args: limitBuy("265"),
  },
  {
    name: "a value above max_order_notional",
    reasons: ["ORDER_NOTIONAL_LIMIT_REFUSED"],
    preview: '  max_order_notional: "2649.99"\n',
    args: limitBuy("265"),
  },
  {
    name: "a notional limit in another currency than the contract",
    reasons: ["ORDER_NOTIONAL_CURRENCY_MISMATCH"],
    preview: '  max_order_notional: "1000000"\n  currency: EUR\n',
    args: limitBuy("265"),
  },
  {
    name: "a delayed quote",
    reasons: ["ORDER_MARKET_DATA_STALE"],
    scenario: "delayed-data",
    args: limitBuy("265"),
  },
  {
    name: "a frozen quote while the market is open",
    reasons: ["ORDER_MARKET_DATA_STALE"],
    scenario: "frozen-data",
    args: limitBuy("265"),
  },
  {
    name: "several breaches at once",
    reasons: ["ORDER_FRACTIONAL_REFUSED", "ORDER_QUANTITY_LIMIT_REFUSED", "ORDER_NOTIONAL_LIMIT_REFUSED"],
    preview: '  max_order_quantity: "1"\n  max_order_notional: "100"\n',
    args: limitBuy("265", { quantity: "1.5" }),
  },
];

describe("the preview risk policy", () => {
  it.each(REFUSALS)("refuses $name with its reason codes, audited, nothing sent", async (row) => {
    const { gateway, sim } = await orderGateway({
      config: paperYaml({ ...(row.preview !== undefined ? { preview: row.preview } : {}) }),
      ...(row.scenario !== undefined ? { scenario: row.scenario } : {}),
    });
    row.before?.(sim);
    const refusal = await refused(gateway, "ibkr_order_preview", row.args);
    expect(refusal.code).toBe("ORDER_POLICY_REFUSED");
    expect(refusal.details).toEqual({ refusal_reasons: row.reasons, policy_id: "order_preview" });
    const [event] = eventsOf(gateway, "order_preview_refused");
    expect(event).toMatchObject({
      decision: "refuse",
      result_status: "refused",
      error_code: "ORDER_POLICY_REFUSED",
      tool: "ibkr_order_preview",
      account_id_hash: gateway.store.hashAccountId(String(row.args.account_id)),
      metadata: {
        refusal_reasons: row.reasons,
        policy_id: "order_preview",
        account_mode: row.mode ?? "paper",
        symbol: "AAPL",
        side: "buy",
        order_type: "limit",
      },
    });
    expect(eventsOf(gateway, "order_preview_created")).toEqual([]);
    // Refused before the what-if: nothing order-shaped reached the broker.
    expect(sim.control.count("whatIfOrder")).toBe(0);
    expect(writesAtBroker(sim)).toBe(0);
    expectSafeStore(gateway);
  });

  it("refuses an order type's missing price field as ORDER_LIMIT_PRICE_REQUIRED", async () => {
    const { gateway } = await orderGateway({ config: paperYaml() });
    const cases = [
      [{ order_type: "limit" }, "limit_price"],
      [{ order_type: "stop" }, "stop_price"],
      [{ order_type: "stop_limit", limit_price: "265" }, "stop_price"],
      [{ order_type: "trailing_stop" }, "trailing_amount or trailing_percent"],
    ] as const;
    for (const [fields, field] of cases) {
      const refusal = await refused(gateway, "ibkr_order_preview", {
        ...limitBuy("1"),
        limit_price: undefined,
        ...fields,
      });
      expect(refusal.code, field).toBe("ORDER_POLICY_REFUSED");
      expect(refusal.details, field).toEqual({ field, refusal_reasons: ["ORDER_LIMIT_PRICE_REQUIRED"] });
    }
  });
});

describe("order validation", () => {
  const FAILURES = [
    {
      name: "a stop price on a limit order",
      args: limitBuy("265", { stop_price: "260" }),
      field: "stop_price",
    },
    {
      name: "a limit price on a stop order",
      args: limitBuy("265", { order_type: "stop", stop_price: "270" }),
      field: "limit_price",
    },
    {
      name: "a trailing amount on a limit order",
      args: limitBuy("265", { trailing_amount: "2" }),
      field: "trailing_amount",
    },
    {
      name: "both trailing fields",
      args: {
        ...limitBuy("1"),
        limit_price: undefined,
        order_type: "trailing_stop",
        trailing_amount: "2",
        trailing_percent: "1",
      },
      field: "trailing_percent",
    },
    {
      name: "a trailing percent of 100",
      args: {
        ...limitBuy("1"),
        limit_price: undefined,
        order_type: "trailing_stop",
        trailing_percent: "100",
      },
      field: "trailing_percent",
    },
  ];

  it.each(FAILURES)("refuses $name with ORDER_VALIDATION_FAILED naming the field", async (row) => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    const refusal = await refused(gateway, "ibkr_order_preview", row.args);
    expect(refusal.code).toBe("ORDER_VALIDATION_FAILED");
    expect(refusal.details).toEqual({ field: row.field });
    expect(sim.control.requests().length).toBe(0);
  });

  const BRACKETS = [
    { side: "buy", entry: "265", profit: "270", loss: "266", ok: false },
    { side: "buy", entry: "265", profit: "264", loss: "260", ok: false },
    { side: "buy", entry: "265", profit: "270", loss: "260", ok: true },
    { side: "sell", entry: "265", profit: "270", loss: "275", ok: false },
    { side: "sell", entry: "265", profit: "260", loss: "264", ok: false },
    { side: "sell", entry: "265", profit: "260", loss: "270", ok: true },
  ];

  it.each(BRACKETS)(
    "checks a $side bracket's price order (entry $entry, take profit $profit, stop loss $loss)",
    async (row) => {
      const { gateway } = await orderGateway({ config: paperYaml() });
      const args = {
        account_id: PAPER_ACCOUNT,
        symbol: "AAPL",
        side: row.side,
        quantity: "10",
        entry_limit_price: row.entry,
        take_profit_limit_price: row.profit,
        stop_loss_stop_price: row.loss,
      };
      if (row.ok) {
        const preview = await ok(gateway, "ibkr_bracket_order_preview", args);
        const exit = row.side === "buy" ? "sell" : "buy";
        expect(preview.legs).toEqual([
          {
            role: "entry",
            side: row.side,
            quantity: "10",
            order_type: "limit",
            limit_price: row.entry,
            time_in_force: "day",
          },
          {
            role: "take_profit",
            side: exit,
            quantity: "10",
            order_type: "limit",
            limit_price: row.profit,
            time_in_force: "day",
          },
          {
            role: "stop_loss",
            side: exit,
            quantity: "10",
            order_type: "stop",
            stop_price: row.loss,
            time_in_force: "day",
          },
        ]);
        return;
      }
      const refusal = await refused(gateway, "ibkr_bracket_order_preview", args);
      expect(refusal.code).toBe("ORDER_VALIDATION_FAILED");
      expect(refusal.details).toEqual({ field: "take_profit_limit_price" });
      expect(refusal.message).toBe(
        row.side === "buy"
          ? "For a buy bracket the prices must be stop_loss_stop_price < entry_limit_price < take_profit_limit_price."
          : "For a sell bracket the prices must be take_profit_limit_price < entry_limit_price < stop_loss_stop_price.",
      );
    },
  );
});

describe("contract selection", () => {
  it("refuses an ambiguous symbol with the candidates, and previews the one a contract_id picks", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    const order = { ...limitBuy("40"), symbol: "ACME" };
    const ambiguous = await refused(gateway, "ibkr_order_preview", order);
    expect(ambiguous.code).toBe("INPUT_AMBIGUOUS_CONTRACT");
    expect(ambiguous.details).toEqual({
      field: "symbol",
      candidates: [
        { contract_id: "990001", exchange: "NYSE", currency: "USD" },
        { contract_id: "990002", exchange: "NASDAQ", currency: "USD" },
      ],
    });
    expect(sim.control.count("whatIfOrder")).toBe(0);
    const picked = await ok(gateway, "ibkr_order_preview", { ...order, contract_id: "990002" });
    expect(picked.contract).toMatchObject({ contract_id: "990002", symbol: "ACME", exchange: "NASDAQ" });
    const wrong = await refused(gateway, "ibkr_order_preview", { ...limitBuy("265"), contract_id: "990002" });
    expect(wrong.code).toBe("INPUT_INVALID_CONTRACT");
    expect(wrong.details).toEqual({ field: "contract_id" });
  });

  it("refuses every symbol of the ambiguous-contracts scenario until a contract_id picks a listing", async () => {
    const { gateway } = await orderGateway({ config: paperYaml(), scenario: "ambiguous-contracts" });
    expect((await refused(gateway, "ibkr_order_preview", limitBuy("265"))).code).toBe(
      "INPUT_AMBIGUOUS_CONTRACT",
    );
    const picked = await ok(gateway, "ibkr_order_preview", limitBuy("265", { contract_id: "265598" }));
    expect(picked.contract).toMatchObject({ contract_id: "265598", exchange: "NASDAQ" });
  });
});

describe("a preview", () => {
  it("is refused with ORDER_PREVIEW_DISABLED while order_preview.enabled is off, before the broker", async () => {
    const { gateway, sim } = await orderGateway({
      config: `${CONFIG_HEADER}auth:\n  enabled_scopes: [ibkr:accounts:read, ibkr:orders:preview]\n`,
    });
    const refusal = await refused(gateway, "ibkr_order_preview", limitBuy("265"));
    expect(refusal.code).toBe("ORDER_PREVIEW_DISABLED");
    expect(refusal.details).toEqual({ field: "order_preview.enabled" });
    const bracket = await refused(gateway, "ibkr_bracket_order_preview", {
      account_id: PAPER_ACCOUNT,
      symbol: "AAPL",
      side: "buy",
      quantity: "1",
      entry_limit_price: "265",
      take_profit_limit_price: "270",
      stop_loss_stop_price: "260",
    });
    expect(bracket.code).toBe("ORDER_PREVIEW_DISABLED");
    expect(sim.control.requests().length).toBe(0);
  });

  it("shows the broker's what-if figures, is stored with its expiry, and never sends an order", async () => {
    const { gateway, sim, clock } = await orderGateway({ config: paperYaml() });
    const preview = await ok(gateway, "ibkr_order_preview", limitBuy("265"));
    expect(preview).toMatchObject({
      account_id: PAPER_ACCOUNT,
      order_sent: false,
      created_at: "2026-12-01T15:00:00Z",
      expires_at: "2026-12-01T15:05:00Z",
      order: { side: "buy", quantity: "10", order_type: "limit", limit_price: "265", time_in_force: "day" },
      contract: { contract_id: "265598", symbol: "AAPL", asset_class: "stock", currency: "USD" },
      risk: {
        policy_id: "order_preview",
        decision: "accepted",
        notional: { amount: "2650", currency: "USD" },
        warnings: [],
      },
      quote: { currency: "USD", provenance: { status: "live", age_seconds: 0 } },
      source: { backend: "simulator", simulated: true },
    });
    const whatIf = preview.what_if as Record<string, { amount?: string; change?: { amount: string } }>;
    expect(whatIf.order_value).toEqual({ amount: "2650", currency: "USD" });
    expect(whatIf.commission).toEqual({ amount: "1", currency: "USD" });
    expect(whatIf.total).toEqual({ amount: "2651", currency: "USD" });
    for (const figure of ["initial_margin", "maintenance_margin", "equity_with_loan"]) {
      expect(Object.keys(whatIf[figure] ?? {}).sort(), figure).toEqual(["after", "change", "current"]);
    }
    // The stored record: the account as a hash only, and the expiry of order_preview.ttl_seconds (300 s).
    const stored = gateway.store.previews.get(String(preview.preview_id));
    expect(stored).toMatchObject({
      accountIdHash: gateway.store.hashAccountId(PAPER_ACCOUNT),
      mode: "paper",
    });
    expect((stored?.expiresAt ?? 0) - (stored?.createdAt ?? 0)).toBe(300_000);
    expect(stored?.payload).toMatchObject({ preview_kind: "order", what_if: preview.what_if });
    const [created] = eventsOf(gateway, "order_preview_created");
    expect(created?.metadata).toMatchObject({
      preview_id: preview.preview_id,
      preview_kind: "order",
      estimated_notional: "2650",
      estimated_commission: "1",
      quote_provenance: "live",
      expires_at: "2026-12-01T15:05:00Z",
    });
    // One what-if, and nothing that places, changes or answers an order.
    expect(sim.control.count("whatIfOrder")).toBe(1);
    expect(writesAtBroker(sim)).toBe(0);
    expect(sim.state.orders.all()).toEqual([]);
    // After the expiry the preview can no longer be approved.
    clock.set(stored?.expiresAt ?? 0);
    const late = await refused(gateway, "ibkr_approvals_create", {
      account_id: PAPER_ACCOUNT,
      preview_id: preview.preview_id,
    });
    expect(late.code).toBe("ORDER_PREVIEW_EXPIRED");
    expect(late.details).toEqual({ field: "preview_id", expired_at: "2026-12-01T15:05:00Z" });
    expectSafeStore(gateway);
  });

  it("previews a bracket as one stored preview with three legs and one what-if of the entry", async () => {
    const { gateway, sim } = await orderGateway({ config: paperYaml() });
    const preview = await ok(gateway, "ibkr_bracket_order_preview", {
      account_id: PAPER_ACCOUNT,
      symbol: "AAPL",
      side: "buy",
      quantity: "10",
      entry_limit_price: "265",
      take_profit_limit_price: "280",
      stop_loss_stop_price: "255",
    });
    expect(preview.order_sent).toBe(false);
    expect(gateway.store.previews.get(String(preview.preview_id))?.payload).toMatchObject({
      preview_kind: "bracket",
      legs: [{ role: "entry" }, { role: "take_profit" }, { role: "stop_loss" }],
    });
    expect(sim.control.count("whatIfOrder")).toBe(1);
    expect(writesAtBroker(sim)).toBe(0);
  });
});
