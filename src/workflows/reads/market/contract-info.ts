// Contract details from /iserver/contract/{conid}/info, kept per process for an hour: they do not change
// within a day, and the quote tools need them on every call (currency, asset class, and the symbol whose
// trading schedule says whether the market is open). A conid the broker refuses is INPUT_INVALID_CONTRACT.
import { getContractInfo } from "../../../../generated/cpapi/client.gen.ts";
import type { Clock } from "../../../core/clock.ts";
import { GatewayError, isGatewayError } from "../../../core/gateway-error.ts";
import type { ClientTransport } from "../../../cpapi/index.ts";
import { createTtlCache } from "./ttl-cache.ts";

export interface ContractInfoBook {
  /** The getContractInfo body of one conid; INPUT_INVALID_CONTRACT when the broker does not know it. */
  body(transport: ClientTransport, contractId: string): Promise<unknown>;
  /** Bodies of several conids, leaving out those the broker does not know (search candidates). */
  known(transport: ClientTransport, contractIds: readonly string[]): Promise<unknown[]>;
}

function unknownContract(cause: unknown): GatewayError {
  return new GatewayError("INPUT_INVALID_CONTRACT", {
    message: "The broker does not know that contract id.",
    details: { field: "contract_id", reason: "unknown_to_broker" },
    cause,
  });
}

function isUnknownContract(error: unknown): boolean {
  return isGatewayError(error) && error.code === "INPUT_INVALID_CONTRACT";
}

export function createContractInfoBook(clock: Clock): ContractInfoBook {
  const cache = createTtlCache<unknown>(clock, 3_600_000, 500);

  async function body(transport: ClientTransport, contractId: string): Promise<unknown> {
    const cached = cache.get(contractId);
    if (cached !== undefined) return cached;
    let answer: unknown;
    try {
      answer = (await getContractInfo(transport, { path: { conid: Number(contractId) } })).body;
    } catch (error) {
      // The broker answers an unknown conid with a 4xx, which the client reports as a bad argument.
      if (isGatewayError(error) && error.code === "INPUT_INVALID_ARGUMENT") throw unknownContract(error);
      throw error;
    }
    cache.set(contractId, answer);
    return answer;
  }

  return {
    body,
    async known(transport, contractIds) {
      const bodies = await Promise.all(
        contractIds.map((id) =>
          body(transport, id).catch((error: unknown) => {
            if (isUnknownContract(error)) return undefined;
            throw error;
          }),
        ),
      );
      return bodies.filter((b) => b !== undefined);
    },
  };
}
