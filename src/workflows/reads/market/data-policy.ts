// The operator's market-data policy (config `market_data`), applied to a quote the mapper labelled:
//   no data at all                     -> MARKET_DATA_UNAVAILABLE
//   delayed data, allow_delayed off    -> MARKET_DATA_DELAYED (by the broker's own label, even when also old)
//   old values while the market is in  -> MARKET_DATA_STALE
//   its regular session
//   old values outside it              -> passed on, labelled stale or frozen, with a warning saying why
// "Old" is older than max_snapshot_age_seconds (the mapper's stale), frozen (the last values at the close),
// or of unknown age. Outside the regular session old values are normal: nothing trades, so nothing updates.
import { GatewayError } from "../../../core/gateway-error.ts";
import type { DataProvenance, ProvenanceStatus } from "../../../cpapi/mappers/index.ts";

export interface MarketDataPolicy {
  readonly maxAgeSeconds: number;
  readonly allowDelayed: boolean;
}

export interface AgedQuote {
  readonly contractId: string;
  /** Provenance as the mapper labelled it (with the configured maximum age). */
  readonly provenance: DataProvenance;
  /** Asked only for old values; true when the answer cannot be known. */
  readonly regularSessionOpen: () => Promise<boolean>;
}

export const OUTSIDE_SESSION_WARNING =
  "Outside the regular trading session: these are the last values the broker has.";

function isOld(provenance: DataProvenance): boolean {
  return (
    provenance.status === "stale" || provenance.status === "frozen" || provenance.age_seconds === undefined
  );
}

function staleMessage(quote: AgedQuote, maxAgeSeconds: number): string {
  const { provenance, contractId } = quote;
  if (provenance.status === "frozen") {
    return `The broker sends only frozen values (the last close) for contract ${contractId} while the market is open.`;
  }
  if (provenance.age_seconds === undefined) {
    return `The broker did not say how old the values for contract ${contractId} are, and the market is open.`;
  }
  return `The values for contract ${contractId} were last updated ${provenance.age_seconds} seconds ago while the market is open; the limit is ${maxAgeSeconds} seconds (market_data.max_snapshot_age_seconds).`;
}

/**
 * Refuses data the policy never accepts, judged by the broker's own label (6509) alone: it is checked before
 * anything else about the values, so a caller is not told to retry for data that would be refused anyway.
 */
export function checkAvailability(
  policy: MarketDataPolicy,
  contractId: string,
  availability: ProvenanceStatus,
): void {
  if (availability === "unavailable") {
    throw new GatewayError("MARKET_DATA_UNAVAILABLE", { details: { contract_id: contractId } });
  }
  if (availability === "delayed" && !policy.allowDelayed) {
    throw new GatewayError("MARKET_DATA_DELAYED", {
      message: `Only delayed market data (15-20 minutes behind) is available for contract ${contractId}, and the policy does not accept it.`,
      details: { contract_id: contractId, allow_delayed: false },
    });
  }
}

/** Refuses old values while the regular session runs, or returns the provenance to pass on. */
export async function checkAge(policy: MarketDataPolicy, quote: AgedQuote): Promise<DataProvenance> {
  const { provenance, contractId } = quote;
  if (!isOld(provenance)) return provenance;
  if (await quote.regularSessionOpen()) {
    throw new GatewayError("MARKET_DATA_STALE", {
      message: staleMessage(quote, policy.maxAgeSeconds),
      details: {
        contract_id: contractId,
        status: provenance.status,
        ...(provenance.age_seconds !== undefined ? { age_seconds: provenance.age_seconds } : {}),
        max_age_seconds: policy.maxAgeSeconds,
      },
    });
  }
  return { ...provenance, warnings: [...provenance.warnings, OUTSIDE_SESSION_WARNING] };
}
