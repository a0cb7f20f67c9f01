// Market depth (ibkr_market_depth). The Client Portal Gateway serves the order book only over its
// websocket, so one call is: the account check (which also runs the /iserver/accounts pre-flight), then one
// short websocket session that subscribes, takes the first book and unsubscribes (src/cpapi/websocket.ts).
import type { ToolInput } from "../../../generated/tools/registry.gen.ts";
import type { OperationContext } from "../../core/call-context.ts";
import { toRfc3339 } from "../../core/clock.ts";
import { GatewayError } from "../../core/gateway-error.ts";
import { mapDepthBook } from "../../cpapi/mappers/depth.ts";
import { readDepthBook } from "../../cpapi/websocket.ts";
import { type ReadDeps, readCall } from "./deps.ts";

const DEFAULT_LEVELS = 10;

export function depthReads(deps: ReadDeps) {
  return {
    async "reads.marketDepth"(args: Record<string, unknown>, context: OperationContext) {
      const input = args as ToolInput<"ibkr_market_depth">;
      const call = readCall(deps, context);
      const facts = await deps.accounts.require(input.account_id, call.transport);
      const socket = deps.broker.websocket;
      if (socket === undefined) {
        throw new GatewayError("BROKER_BACKEND_UNAVAILABLE", {
          message: "This broker backend has no websocket, and market depth is served only there.",
          userAction:
            "Use a Client Portal Gateway (or the simulator) as the broker backend for market depth.",
          details: { channel: "websocket", reason: "no_websocket" },
        });
      }
      // The websocket session is one more broker request for the audit (the /tickle before it counts itself).
      context.noteBrokerRequest();
      const book = await readDepthBook(socket, call.transport, {
        accountId: facts.accountId,
        conid: input.contract_id,
        ...(input.exchange !== undefined ? { exchange: input.exchange } : {}),
      });
      const now = deps.clock.now();
      return {
        ...mapDepthBook(book.rows, {
          accountId: facts.accountId,
          contractId: input.contract_id,
          ...(input.exchange !== undefined ? { exchange: input.exchange } : {}),
          levels: input.levels ?? DEFAULT_LEVELS,
          // Depth streams only with a real-time level-2 subscription (there is no delayed book), so a book
          // that arrived is live as of now.
          provenance: { status: "live", age_seconds: 0, as_of: toRfc3339(now), warnings: [] },
        }),
        source: deps.broker.source(),
      };
    },
  };
}
