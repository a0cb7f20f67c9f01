// The what-if part of an order preview, from POST /iserver/account/{id}/orders/whatif. Every value is
// display text: "2,700.00 USD (10 Shares)", "1 USD", margin figures "1,008,127" without a currency (they are
// in the account's base currency). `warn` is broker text ("21/You are trying to submit...") and passes
// through unchanged as untrusted text; a non-null `error` is the broker refusing the order.
import type { ToolOutput } from "../../../generated/tools/registry.gen.ts";
import { compare } from "../../core/decimal.ts";
import { GatewayError } from "../../core/gateway-error.ts";
import {
  cap,
  compact,
  currency,
  invalid,
  isRecord,
  requireRecord,
  text,
  UNTRUSTED_TEXT_CAP,
  type WireRecord,
  wireDecimal,
} from "./common.ts";

export type WhatIfResult = ToolOutput<"ibkr_order_preview">["what_if"];
type Money = { amount: string; currency: string };
type Change = WhatIfResult["initial_margin"];

const OP = "whatIfOrder";
const NUMBER = /-?[0-9][0-9,]*(?:\.[0-9]+)?/g;

function numbersIn(value: string): string[] {
  const out: string[] = [];
  for (const match of value.matchAll(NUMBER)) {
    const d = wireDecimal(match[0]);
    if (d !== undefined) out.push(d);
  }
  return out;
}

/** The currency code written in the text ("USD"), else the fallback. */
function currencyIn(value: string, fallback: string): string {
  const m = /\b([A-Z]{3})\b/.exec(value);
  return currency(m?.[1]) ?? fallback;
}

/** "2,700.00 USD (10 Shares)": the first number, before any parenthesis, with its currency. */
function firstMoney(value: unknown, fallback: string): Money | undefined {
  const t = text(value);
  if (t === undefined) return undefined;
  const head = t.split("(")[0] ?? t;
  const amount = numbersIn(head)[0];
  return amount === undefined ? undefined : { amount, currency: currencyIn(head, fallback) };
}

/** Commission may be a range ("1.00 - 1.05 USD"): the upper end. */
function upperMoney(value: unknown, fallback: string): Money | undefined {
  const t = text(value);
  if (t === undefined) return undefined;
  const head = t.split("(")[0] ?? t;
  const amounts = numbersIn(head);
  if (amounts.length === 0) return undefined;
  const max = amounts.reduce((a, b) => (compare(a, b) >= 0 ? a : b));
  return { amount: max, currency: currencyIn(head, fallback) };
}

function changeBlock(body: WireRecord, key: string, fallback: string): Change {
  const block = body[key];
  if (!isRecord(block)) throw invalid(OP, key);
  const change = firstMoney(block.change, fallback);
  if (change === undefined) throw invalid(OP, `${key}.change`);
  return compact({
    current: firstMoney(block.current, fallback),
    change,
    after: firstMoney(block.after, fallback),
  });
}

export interface WhatIfContext {
  /** Account base currency: margin and equity figures carry no currency and are in it. */
  readonly baseCurrency: string;
  /** Contract currency, for amounts whose text names no currency. */
  readonly contractCurrency: string;
}

/**
 * The what_if object of ibkr_order_preview / ibkr_bracket_order_preview from a whatIfOrder body. A non-empty
 * `error` throws BROKER_ORDER_REJECTED with the broker's text in details.broker_message (untrusted). Missing
 * commission or margin changes are BROKER_RESPONSE_INVALID.
 */
export function mapWhatIf(body: unknown, ctx: WhatIfContext): WhatIfResult {
  const record = requireRecord(body, OP);
  const error = text(record.error);
  if (error !== undefined) {
    throw new GatewayError("BROKER_ORDER_REJECTED", {
      details: {
        operation_id: OP,
        broker_message: error.slice(0, 1_000),
        untrusted_fields: ["broker_message"],
      },
    });
  }
  const base = currency(ctx.baseCurrency);
  const contract = currency(ctx.contractCurrency);
  if (base === undefined || contract === undefined) throw invalid(OP, "currency");
  const amount = isRecord(record.amount) ? record.amount : undefined;
  const commission = upperMoney(amount?.commission, contract);
  if (commission === undefined) throw invalid(OP, "amount.commission");
  const warning = text(record.warn);
  return compact({
    order_value: firstMoney(amount?.amount, contract),
    commission,
    total: firstMoney(amount?.total, contract),
    initial_margin: changeBlock(record, "initial", base),
    maintenance_margin: changeBlock(record, "maintenance", base),
    equity_with_loan: changeBlock(record, "equity", base),
    broker_warning: warning === undefined ? undefined : cap(warning, UNTRUSTED_TEXT_CAP),
  });
}
