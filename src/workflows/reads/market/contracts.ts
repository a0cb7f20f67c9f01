// Contract lookup tools: ibkr_contracts_search, ibkr_contract_resolve (exactly one stock or ETF, never a
// guess) and ibkr_options_chain (secdef search for the underlying and its months, /secdef/strikes for one
// month, then /secdef/info per strike). Company names are broker text: they go only into the fields the
// contracts mark untrusted, never into messages.
import { getOptionStrikes, getSecdefInfo, searchContracts } from "../../../../generated/cpapi/client.gen.ts";
import { TOOLS, type ToolInput } from "../../../../generated/tools/registry.gen.ts";
import type { OperationContext } from "../../../core/call-context.ts";
import { compare } from "../../../core/decimal.ts";
import { GatewayError, isGatewayError } from "../../../core/gateway-error.ts";
import type { ClientTransport } from "../../../cpapi/index.ts";
import {
  type ContractResolveContext,
  mapContractResolve,
  mapContractsSearch,
  mapOptionsChain,
  type OptionUnderlying,
  optionMonthCode,
  resolveCandidateIds,
  selectChainStrikes,
  selectOptionUnderlying,
} from "../../../cpapi/mappers/index.ts";
import { type ReadDeps, readCall } from "../deps.ts";
import type { ContractInfoBook } from "./contract-info.ts";

const CHAIN_INPUT = TOOLS.ibkr_options_chain.inputSchema.properties;
/** Search candidates whose contract info (the currency) is read when no filter needs it: about a second of pacing. */
const SEARCH_INFO_LOOKUPS = 10;
/** Contract infos read for a filtered search, and for a symbol to resolve: the most candidates a search returns. */
const MAX_INFO_LOOKUPS = 50;

async function search(
  transport: ClientTransport,
  query: string,
  options: { byName?: boolean; secType?: "STK" | "IND" | "BOND" } = {},
): Promise<unknown> {
  const answer = await searchContracts(transport, {
    query: {
      symbol: query.trim(),
      ...(options.byName === true ? { name: true } : {}),
      ...(options.secType !== undefined ? { secType: options.secType } : {}),
    },
  });
  return answer.body;
}

/** The secdef search type for an asset class filter: indices and bonds have their own, the rest are STK. */
function searchSecType(assetClass: string | undefined): "IND" | "BOND" | undefined {
  return assetClass === "index" ? "IND" : assetClass === "bond" ? "BOND" : undefined;
}

interface Candidate {
  readonly contract_id: string;
  readonly exchange?: string;
  readonly currency?: string;
}

/** The ambiguity refusal with the candidates named in the message (ids and codes only, no broker text). */
function ambiguous(error: GatewayError, symbol: string): GatewayError {
  const raw = error.details?.candidates;
  const candidates: Candidate[] = Array.isArray(raw) ? (raw as Candidate[]) : [];
  const listed = candidates
    .map((c) => {
      const where = [c.exchange, c.currency].filter((v) => v !== undefined).join(", ");
      return where === "" ? c.contract_id : `${c.contract_id} (${where})`;
    })
    .join("; ");
  const exchanges = [...new Set(candidates.map((c) => c.exchange).filter((e) => e !== undefined))];
  return new GatewayError("INPUT_AMBIGUOUS_CONTRACT", {
    message: `${symbol} matches ${candidates.length} contracts: ${listed}.`,
    userAction:
      exchanges.length > 1
        ? `Pass exchange (${exchanges.join(" or ")}) or currency to pick one, or use one of these contract ids directly.`
        : "Pass currency or exchange to pick one, or use one of these contract ids directly.",
    details: error.details,
  });
}

/**
 * The mapper's symbol refusals in words about the symbol asked for: the catalogue's message speaks of
 * contract ids, which would mislead a caller who passed a ticker.
 */
function symbolRefusal(error: unknown, symbol: string): unknown {
  if (!isGatewayError(error)) return error;
  const wanted = symbol.trim().toUpperCase();
  if (error.code === "INPUT_AMBIGUOUS_CONTRACT") return ambiguous(error, wanted);
  if (error.code !== "INPUT_INVALID_CONTRACT") return error;
  if (error.details?.reason === "no_match") {
    return new GatewayError("INPUT_INVALID_CONTRACT", {
      message: `No stock or ETF with the symbol ${wanted} matches the request.`,
      userAction:
        "Check the symbol with ibkr_contracts_search (by_name: true searches company names), or drop the currency and exchange filters.",
      details: error.details,
    });
  }
  if (error.details?.reason === "no_options") return noOptions(wanted, error.details);
  return error;
}

function noOptions(symbol: string, details: Record<string, unknown>): GatewayError {
  return new GatewayError("INPUT_INVALID_CONTRACT", {
    message: `The broker lists no options on ${symbol}.`,
    userAction:
      "Check the symbol with ibkr_contracts_search, whose has_options says which contracts have options, and pass underlying_contract_id when several match.",
    details,
  });
}

function invalidArgument(field: string, message: string, userAction: string, extra = {}): GatewayError {
  return new GatewayError("INPUT_INVALID_ARGUMENT", { message, userAction, details: { field, ...extra } });
}

/**
 * Exactly one stock or ETF for a symbol (and filters), never a guess: ambiguity and no match are refusals
 * worded for the symbol asked for. The order previews resolve their contract through this too.
 */
export async function resolveContract(
  transport: ClientTransport,
  infos: ContractInfoBook,
  ctx: ContractResolveContext,
): Promise<ReturnType<typeof mapContractResolve>> {
  const body = await search(transport, ctx.symbol);
  const ids = resolveCandidateIds(body, { symbol: ctx.symbol }).slice(0, MAX_INFO_LOOKUPS);
  const bodies = await infos.known(transport, ids);
  try {
    return mapContractResolve(body, bodies, ctx);
  } catch (error) {
    throw symbolRefusal(error, ctx.symbol);
  }
}

export function contractReads(deps: ReadDeps, infos: ContractInfoBook) {
  return {
    async "reads.contractsSearch"(args: Record<string, unknown>, context: OperationContext) {
      const input = args as ToolInput<"ibkr_contracts_search">;
      const call = readCall(deps, context);
      const body = await search(call.transport, input.query, {
        byName: input.by_name,
        secType: searchSecType(input.asset_class),
      });
      const base = {
        query: input.query,
        ...(input.asset_class !== undefined ? { assetClass: input.asset_class } : {}),
      };
      // The candidates by asset class first; their contract info adds the currency and confirms the
      // currency and exchange filters, which the search rows alone cannot.
      const filtered = input.currency !== undefined || input.exchange !== undefined;
      const ids = mapContractsSearch(body, [], base)
        .candidates.map((c) => c.contract_id)
        .slice(0, filtered ? MAX_INFO_LOOKUPS : SEARCH_INFO_LOOKUPS);
      const bodies = await infos.known(call.transport, ids);
      const result = mapContractsSearch(body, bodies, {
        ...base,
        ...(input.currency !== undefined ? { currency: input.currency } : {}),
        ...(input.exchange !== undefined ? { exchange: input.exchange } : {}),
      });
      return { ...result, source: call.source };
    },

    async "reads.contractResolve"(args: Record<string, unknown>, context: OperationContext) {
      const input = args as ToolInput<"ibkr_contract_resolve">;
      const call = readCall(deps, context);
      const result = await resolveContract(call.transport, infos, {
        symbol: input.symbol,
        ...(input.asset_class !== undefined ? { assetClass: input.asset_class } : {}),
        ...(input.currency !== undefined ? { currency: input.currency } : {}),
        ...(input.exchange !== undefined ? { exchange: input.exchange } : {}),
      });
      return { ...result, source: call.source };
    },

    async "reads.optionsChain"(args: Record<string, unknown>, context: OperationContext) {
      const input = args as ToolInput<"ibkr_options_chain">;
      if (
        input.strike_min !== undefined &&
        input.strike_max !== undefined &&
        compare(input.strike_min, input.strike_max) > 0
      ) {
        throw invalidArgument(
          "strike_min",
          "strike_min is above strike_max.",
          "Pass a strike_min at or below strike_max.",
        );
      }
      const ctx = {
        symbol: input.symbol,
        maxStrikes: input.max_strikes ?? CHAIN_INPUT.max_strikes.default,
        ...(input.underlying_contract_id !== undefined
          ? { underlyingContractId: input.underlying_contract_id }
          : {}),
        ...(input.month !== undefined ? { month: input.month } : {}),
        ...(input.right !== undefined ? { right: input.right } : {}),
        ...(input.strike_min !== undefined ? { strikeMin: input.strike_min } : {}),
        ...(input.strike_max !== undefined ? { strikeMax: input.strike_max } : {}),
        ...(input.exchange !== undefined ? { exchange: input.exchange } : {}),
      };
      const call = readCall(deps, context);
      const body = await search(call.transport, input.symbol);
      let underlying: OptionUnderlying;
      try {
        underlying = selectOptionUnderlying(body, ctx);
      } catch (error) {
        throw symbolRefusal(error, input.symbol);
      }
      if (ctx.month === undefined) {
        return { ...mapOptionsChain(body, null, [], ctx), source: call.source };
      }
      if (underlying.months.length === 0) {
        throw noOptions(underlying.symbol, { field: "underlying_contract_id", reason: "no_options" });
      }
      if (!underlying.months.includes(ctx.month)) {
        throw invalidArgument(
          "month",
          `No options on ${underlying.symbol} expire in ${ctx.month}.`,
          `Use one of the months with listed options: ${underlying.months.join(", ")}.`,
          { expiry_months: [...underlying.months] },
        );
      }
      const month = optionMonthCode(ctx.month);
      const venue = input.exchange !== undefined ? { exchange: input.exchange } : {};
      const strikes = (
        await getOptionStrikes(call.transport, {
          query: { conid: underlying.contractId, sectype: "OPT", month, ...venue },
        })
      ).body;
      // One secdef/info request per strike (the broker has no bulk form); the pacer spaces them.
      const right =
        ctx.right === "call" ? { right: "C" as const } : ctx.right === "put" ? { right: "P" as const } : {};
      const rows = await Promise.all(
        selectChainStrikes(strikes, ctx).strikes.map(
          async (strike) =>
            (
              await getSecdefInfo(call.transport, {
                query: {
                  conid: underlying.contractId,
                  sectype: "OPT",
                  month,
                  strike: Number(strike),
                  ...right,
                  ...venue,
                },
              })
            ).body,
        ),
      );
      return { ...mapOptionsChain(body, strikes, rows, ctx), source: call.source };
    },
  };
}
