// The market side of an order: the one contract an order is placed on (a stock or ETF resolved from its
// symbol, never a guess; a contract_id picks one of the symbol's listings), and the quote it is checked
// against, read fresh through the market-data policy of the snapshot tool. A quote the policy refuses as
// stale or delayed is no quote at all here: the order policies then refuse with their own reason codes.
import type { ToolOutput } from "../../../generated/tools/registry.gen.ts";
import type { OperationContext, OperationHandler } from "../../core/call-context.ts";
import { GatewayError, isGatewayError } from "../../core/gateway-error.ts";
import type { ClientTransport } from "../../cpapi/index.ts";
import type { QuoteView } from "../../gates/index.ts";
import { resolveContract } from "../reads/market/contracts.ts";
import type { MarketBooks } from "../reads/market.ts";

export type OrderContract = ToolOutput<"ibkr_order_preview">["contract"];

export interface ContractRequest {
  readonly symbol: string;
  readonly contractId?: string;
  readonly currency?: string;
}

export async function orderContract(
  transport: ClientTransport,
  books: MarketBooks,
  request: ContractRequest,
): Promise<OrderContract> {
  try {
    const resolved = await resolveContract(transport, books.infos, {
      symbol: request.symbol,
      ...(request.currency !== undefined ? { currency: request.currency } : {}),
      ...(request.contractId !== undefined ? { contractId: request.contractId } : {}),
    });
    return {
      contract_id: resolved.contract_id,
      symbol: resolved.symbol,
      asset_class: resolved.asset_class,
      exchange: resolved.exchange,
      currency: resolved.currency,
      ...(resolved.company_name !== undefined ? { description: resolved.company_name } : {}),
    };
  } catch (error) {
    if (
      request.contractId !== undefined &&
      isGatewayError(error) &&
      error.code === "INPUT_INVALID_CONTRACT"
    ) {
      throw new GatewayError("INPUT_INVALID_CONTRACT", {
        message: `Contract ${request.contractId} is not a listing of ${request.symbol.toUpperCase()} in ${request.currency ?? "USD"}.`,
        userAction: "Take the contract_id from ibkr_contracts_search for this symbol, or leave it out.",
        details: { field: "contract_id" },
      });
    }
    throw error;
  }
}

/** Codes of the market-data policy that mean "no usable quote" rather than a failure. */
const REFUSED_QUOTES: ReadonlySet<string> = new Set(["MARKET_DATA_STALE", "MARKET_DATA_DELAYED"]);

/** A fresh quote through the snapshot tool's policy, or null when the policy refuses the data's age or kind. */
export async function orderQuote(
  snapshot: OperationHandler,
  context: OperationContext,
  contract: Pick<OrderContract, "contract_id" | "currency">,
): Promise<QuoteView | null> {
  try {
    const quote = (await snapshot(
      { contract_id: contract.contract_id },
      context,
    )) as ToolOutput<"ibkr_market_snapshot">;
    return {
      ...(quote.bid !== undefined ? { bid: quote.bid } : {}),
      ...(quote.ask !== undefined ? { ask: quote.ask } : {}),
      ...(quote.last !== undefined ? { last: quote.last } : {}),
      currency: quote.currency ?? contract.currency,
      provenance: {
        status: quote.provenance.status,
        ...(quote.provenance.age_seconds !== undefined ? { age_seconds: quote.provenance.age_seconds } : {}),
        warnings: [...quote.provenance.warnings],
      },
    };
  } catch (error) {
    if (isGatewayError(error) && REFUSED_QUOTES.has(error.code)) return null;
    throw error;
  }
}

/** The quote part of a preview output. */
export function quoteOutput(quote: QuoteView): ToolOutput<"ibkr_order_preview">["quote"] {
  return {
    ...(quote.bid !== undefined ? { bid: quote.bid } : {}),
    ...(quote.ask !== undefined ? { ask: quote.ask } : {}),
    ...(quote.last !== undefined ? { last: quote.last } : {}),
    currency: quote.currency,
    provenance: quote.provenance as ToolOutput<"ibkr_order_preview">["quote"]["provenance"],
  };
}
