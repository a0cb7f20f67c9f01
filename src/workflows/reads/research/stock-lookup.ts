// The stock a symbol names, for the research tools that take a symbol but read by conid (news,
// fundamentals). They use the broker's first stock match, as their descriptions say, and return its
// contract_id so the caller can check it was the company they meant (tickers are not unique).
import { searchContracts } from "../../../../generated/cpapi/client.gen.ts";
import { GatewayError } from "../../../core/gateway-error.ts";
import type { ClientTransport } from "../../../cpapi/index.ts";
import { mapContractsSearch, resolveCandidateIds } from "../../../cpapi/mappers/index.ts";

export interface StockMatch {
  readonly contractId: string;
  /** The symbol as the broker spells it. */
  readonly symbol: string;
  readonly companyName?: string;
}

export async function firstStockMatch(transport: ClientTransport, symbol: string): Promise<StockMatch> {
  const search = await searchContracts(transport, { query: { symbol, secType: "STK" } });
  const [contractId] = resolveCandidateIds(search.body, { symbol });
  if (contractId === undefined) {
    throw new GatewayError("INPUT_INVALID_CONTRACT", {
      message: "The broker lists no stock with this symbol.",
      userAction:
        "Check the symbol with ibkr_contracts_search (ibkr-agent contracts search) and pass a listed stock symbol.",
      details: { field: "symbol", reason: "no_match" },
    });
  }
  const candidate = mapContractsSearch(search.body, [], { query: symbol }).candidates.find(
    (c) => c.contract_id === contractId,
  );
  return {
    contractId,
    symbol: candidate?.symbol ?? symbol,
    ...(candidate?.company_name !== undefined ? { companyName: candidate.company_name } : {}),
  };
}
