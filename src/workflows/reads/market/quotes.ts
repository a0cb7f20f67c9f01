// Quote tools: ibkr_market_snapshot and ibkr_option_greeks. Both read contract info first (currency, asset
// class, the symbol for the trading schedule), then one snapshot; the client has already re-asked while the
// broker's stream was starting. A row that is still empty or lacks the greeks becomes MARKET_DATA_INCOMPLETE,
// never made-up values, and every quote passes the market-data policy before it is returned.
import { getMarketSnapshot } from "../../../../generated/cpapi/client.gen.ts";
import type { ToolInput } from "../../../../generated/tools/registry.gen.ts";
import type { OperationContext } from "../../../core/call-context.ts";
import { GatewayError } from "../../../core/gateway-error.ts";
import type { ClientTransport } from "../../../cpapi/index.ts";
import {
  type ContractFacts,
  type DataProvenance,
  GREEKS_FIELD_IDS,
  isNotReady,
  mapContractFacts,
  mapMarketSnapshot,
  mapOptionGreeks,
  type NotReady,
  QUOTE_FIELD_IDS,
  snapshotAvailability,
} from "../../../cpapi/mappers/index.ts";
import { type ReadDeps, readCall } from "../deps.ts";
import type { ContractInfoBook } from "./contract-info.ts";
import { checkAge, checkAvailability, type MarketDataPolicy } from "./data-policy.ts";
import { regularSessionOpenFor } from "./market-hours.ts";
import type { ScheduleBook } from "./schedule-book.ts";

export interface QuoteDeps {
  readonly infos: ContractInfoBook;
  readonly schedules: ScheduleBook;
}

function notReadyError(marker: NotReady, contractId: string): GatewayError {
  if (marker.reason === "data_unavailable") {
    return new GatewayError("MARKET_DATA_UNAVAILABLE", { details: { contract_id: contractId } });
  }
  if (marker.reason === "fields_missing") {
    return new GatewayError("MARKET_DATA_INCOMPLETE", {
      message: `The broker has not computed the greeks of contract ${contractId} yet.`,
      details: {
        contract_id: contractId,
        reason: marker.reason,
        missing_fields: [...(marker.missing ?? [])],
      },
    });
  }
  return new GatewayError("MARKET_DATA_INCOMPLETE", {
    message: `The broker's data stream for contract ${contractId} has not delivered values yet.`,
    details: { contract_id: contractId, reason: marker.reason },
  });
}

function policyOf(deps: ReadDeps): MarketDataPolicy {
  return {
    maxAgeSeconds: deps.config.market_data.max_snapshot_age_seconds,
    allowDelayed: deps.config.market_data.allow_delayed,
  };
}

export function quoteReads(deps: ReadDeps, books: QuoteDeps) {
  async function facts(transport: ClientTransport, contractId: string): Promise<ContractFacts> {
    return mapContractFacts(await books.infos.body(transport, contractId), contractId);
  }

  async function snapshot(transport: ClientTransport, contractId: string, fields: readonly string[]) {
    const answer = await getMarketSnapshot(transport, {
      query: { conids: contractId, fields: fields.join(",") },
    });
    return answer.body;
  }

  /**
   * The policy's order: an empty row is INCOMPLETE (it has no label yet), then data the policy never
   * accepts is refused, then missing fields are INCOMPLETE, then old values are refused or labelled.
   */
  async function judged<T extends { provenance: DataProvenance }>(
    transport: ClientTransport,
    contract: ContractFacts,
    body: unknown,
    mapped: T | NotReady,
  ): Promise<T> {
    const { contractId } = contract;
    if (isNotReady(mapped) && mapped.reason === "snapshot_preflight") throw notReadyError(mapped, contractId);
    checkAvailability(policyOf(deps), contractId, snapshotAvailability(body, contractId));
    if (isNotReady(mapped)) throw notReadyError(mapped, contractId);
    const provenance = await checkAge(policyOf(deps), {
      contractId,
      provenance: mapped.provenance,
      regularSessionOpen: () =>
        regularSessionOpenFor(books.schedules, transport, contract, deps.broker.client.marketNow()),
    });
    return { ...mapped, provenance };
  }

  return {
    async "reads.marketSnapshot"(args: Record<string, unknown>, context: OperationContext) {
      const { contract_id: contractId } = args as ToolInput<"ibkr_market_snapshot">;
      const call = readCall(deps, context);
      const contract = await facts(call.transport, contractId);
      const body = await snapshot(call.transport, contractId, QUOTE_FIELD_IDS);
      const quote = mapMarketSnapshot(body, {
        contractId,
        nowMs: deps.broker.client.marketNow(),
        maxSnapshotAgeSeconds: policyOf(deps).maxAgeSeconds,
        ...(contract.currency !== undefined ? { currency: contract.currency } : {}),
      });
      return { ...(await judged(call.transport, contract, body, quote)), source: call.source };
    },

    async "reads.optionGreeks"(args: Record<string, unknown>, context: OperationContext) {
      const { contract_id: contractId } = args as ToolInput<"ibkr_option_greeks">;
      const call = readCall(deps, context);
      const contract = await facts(call.transport, contractId);
      // Refused before a data stream is opened for it: greeks exist only for options.
      if (contract.assetClass !== "option") {
        throw new GatewayError("INPUT_UNSUPPORTED_ASSET_CLASS", {
          message: `Contract ${contractId} is not an option (the broker lists it as ${contract.assetClass}), so it has no greeks.`,
          userAction:
            "Get an option's contract_id from ibkr_options_chain, or use ibkr_market_snapshot for this contract.",
          details: { field: "contract_id", asset_class: contract.assetClass },
        });
      }
      const body = await snapshot(call.transport, contractId, GREEKS_FIELD_IDS);
      const greeks = mapOptionGreeks(body, {
        contractId,
        nowMs: deps.broker.client.marketNow(),
        maxSnapshotAgeSeconds: policyOf(deps).maxAgeSeconds,
      });
      return { ...(await judged(call.transport, contract, body, greeks)), source: call.source };
    },
  };
}
