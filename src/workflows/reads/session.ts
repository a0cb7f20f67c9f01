// Gateway and session tools: health (never touches the broker), backend status and session requirements
// (session problems are data, not errors), and session renew (the keep-alive, and ssodh/init only when the
// configuration allows it; taking the session over from another platform only from the operator's terminal).
import { getAuthStatus, getTickle } from "../../../generated/cpapi/client.gen.ts";
import { SCOPE_TIERS, TIERS } from "../../../generated/scopes.gen.ts";
import type { ToolInput, ToolOutput } from "../../../generated/tools/registry.gen.ts";
import type { OperationContext } from "../../core/call-context.ts";
import { toRfc3339 } from "../../core/clock.ts";
import { GatewayError, isGatewayError } from "../../core/gateway-error.ts";
import type { ClientTransport } from "../../cpapi/index.ts";
import {
  mapBackendStatus,
  mapSessionRenew,
  mapSessionRequirements,
  type SessionProbe,
} from "../../cpapi/mappers/index.ts";
import { type ReadDeps, readCall } from "./deps.ts";

/** Reads the tickle and the auth status as raw answers; an unreachable gateway or a 401 are facts here. */
export async function probeSession(transport: ClientTransport, afterRenew?: unknown): Promise<SessionProbe> {
  let tickle: unknown;
  let tickleStatus: number | undefined;
  try {
    const answer = await getTickle(transport, {}, { fresh: true });
    tickle = answer.body;
    tickleStatus = answer.status;
  } catch (error) {
    if (!isGatewayError(error)) throw error;
    if (error.code === "BROKER_BACKEND_UNAVAILABLE") return { gatewayReachable: false };
    if (error.code !== "BROKER_SESSION_REQUIRED") throw error;
    tickleStatus = typeof error.details?.http_status === "number" ? error.details.http_status : 401;
  }
  if (afterRenew !== undefined)
    return { gatewayReachable: true, tickle, tickleStatus, authStatus: afterRenew };
  if (tickleStatus === 401) return { gatewayReachable: true, tickleStatus };
  try {
    const auth = await getAuthStatus(transport, {}, { fresh: true });
    return { gatewayReachable: true, tickle, tickleStatus, authStatus: auth.body };
  } catch (error) {
    if (
      !isGatewayError(error) ||
      (error.code !== "BROKER_SESSION_REQUIRED" && error.code !== "BROKER_BACKEND_UNAVAILABLE")
    ) {
      throw error;
    }
    return { gatewayReachable: true, tickle, tickleStatus };
  }
}

type Health = ToolOutput<"ibkr_health">;

function enabledTiers(context: OperationContext): Health["enabled_tiers"] {
  const held = new Set([...context.scopes].map((scope) => SCOPE_TIERS[scope]));
  return TIERS.filter((tier) => held.has(tier)) as Health["enabled_tiers"];
}

export function sessionReads(deps: ReadDeps) {
  return {
    async "reads.health"(_args: Record<string, unknown>, context: OperationContext): Promise<Health> {
      const now = deps.clock.now();
      const warnings: string[] = [];
      const auditWritable = !deps.store.readonly;
      if (!auditWritable) warnings.push("The audit log is read-only: every tool call will be refused.");
      return {
        status: warnings.length === 0 ? "ok" : "degraded",
        version: deps.version,
        uptime_seconds: Math.max(0, Math.floor((now - deps.startedAt) / 1000)),
        audit_writable: auditWritable,
        enabled_tiers: enabledTiers(context),
        warnings,
        checked_at: toRfc3339(now),
        source: deps.broker.source(),
      };
    },

    async "reads.backendStatus"(_args: Record<string, unknown>, context: OperationContext) {
      const call = readCall(deps, context);
      const probe = await probeSession(call.transport);
      return { ...mapBackendStatus(probe, { nowMs: deps.clock.now() }), source: deps.broker.source() };
    },

    async "reads.sessionRequirements"(_args: Record<string, unknown>, context: OperationContext) {
      const call = readCall(deps, context);
      const probe = await probeSession(call.transport);
      return {
        ...mapSessionRequirements(probe, { nowMs: deps.clock.now(), loginUrl: deps.broker.loginUrl }),
        source: deps.broker.source(),
      };
    },

    async "reads.sessionRenew"(args: Record<string, unknown>, context: OperationContext) {
      const input = args as ToolInput<"ibkr_session_renew">;
      if (input.compete === true && !(context.frontDoor === "cli" && context.interactive === true)) {
        throw new GatewayError("INPUT_INVALID_ARGUMENT", {
          message:
            "compete: true takes the session away from another IBKR platform; only the operator's terminal may ask for it.",
          userAction:
            "Run `ibkr-agent session renew --compete` yourself in a terminal, or log out of the other platform.",
          details: { field: "compete" },
        });
      }
      const call = readCall(deps, context);
      context.noteBrokerRequest();
      const kept = await deps.broker.client.session.keepAlive();
      let initAnswer: unknown;
      if (input.compete === true && kept.state !== "authenticated") {
        if (!deps.config.broker.allow_session_compete) {
          throw new GatewayError("INPUT_INVALID_ARGUMENT", {
            message: "Taking over the brokerage session is turned off in the configuration.",
            userAction:
              "Set `broker.allow_session_init: true` and `broker.allow_session_compete: true`, or log out of the other platform.",
            details: { field: "compete" },
          });
        }
        context.noteBrokerRequest();
        const status = await deps.broker.client.session.init({ compete: true });
        initAnswer = {
          authenticated: status.authenticated,
          competing: status.competing,
          connected: status.connected,
        };
      }
      const probe = await probeSession(call.transport, initAnswer);
      const result = mapSessionRenew(probe, { nowMs: deps.clock.now() });
      if (result.state === "login_required" || result.state === "gateway_unreachable") {
        throw new GatewayError(
          result.state === "login_required" ? "BROKER_SESSION_REQUIRED" : "BROKER_BACKEND_UNAVAILABLE",
          {
            details: { state: result.state },
          },
        );
      }
      return { ...result, source: deps.broker.source() };
    },
  };
}
