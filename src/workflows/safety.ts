// The gateway's safety state: the persisted kill switch, live arming and the live limit counters.
// Tools: ibkr_kill_switch_status, ibkr_kill_switch_engage (agents may stop every submit and modify, paper and
// live, and nothing more; cancels stay allowed) and ibkr_limits_status. Operator procedures, from a terminal
// with the PIN: release the switch, engage it and cancel every working order (an agent must not be able to
// pull protective stops), arm live trading after the checklist; disarming needs no PIN. Engaging the switch
// always disarms live trading. Every change is audited.
import { cancelOrder, getLiveOrders } from "../../generated/cpapi/client.gen.ts";
import type { ToolInput, ToolOutput } from "../../generated/tools/registry.gen.ts";
import type { CallContext, OperationContext } from "../core/call-context.ts";
import { toRfc3339 } from "../core/clock.ts";
import { add, compare, subtract } from "../core/decimal.ts";
import { GatewayError, toGatewayError } from "../core/gateway-error.ts";
import { mapOrdersList } from "../cpapi/mappers/index.ts";
import { type OperatorProof, requireOperator } from "./operator.ts";
import type { OrderDeps } from "./orders/deps.ts";
import { type EventOrigin, recordEvent } from "./orders/events.ts";
import { armedForCurrentConfig, liveConfigHash, liveCounters, livePolicy } from "./orders/live-gates.ts";
import { readCall } from "./reads/deps.ts";

type StatusOutput = ToolOutput<"ibkr_kill_switch_status">;

const WORKING = new Set(["pending_submit", "open", "partially_filled", "inactive"]);

/** Who changed the state, as status shows it: the MCP client's name or the principal; the CLI is the operator. */
function changedBy(context: CallContext): string {
  if (context.frontDoor === "cli") return "operator";
  return (context.metadata?.mcp_client ?? context.principal).slice(0, 200);
}

/** Audit retention live trading needs (design §10), in days. */
const LIVE_RETENTION_DAYS = 2555;

export interface LivePrerequisite {
  readonly name: "live_enabled" | "checklist" | "allowlist" | "policy" | "retention";
  readonly met: boolean;
  /** The configuration key to set when it is not met. */
  readonly key: string;
  readonly detail: string;
}

export interface LiveStatus {
  readonly armed: boolean;
  /** False when armed under an earlier live configuration: the next live write disarms. */
  readonly armed_for_current_config: boolean;
  readonly armed_at?: string;
  readonly disarmed_cause?: string;
  readonly changed_at?: string;
  readonly kill_switch: "engaged" | "released";
  readonly prerequisites: readonly LivePrerequisite[];
  readonly ready_to_arm: boolean;
}

/** What the configuration must say before the operator may arm live trading, one entry per requirement. */
export function livePrerequisites(config: OrderDeps["config"]): LivePrerequisite[] {
  const live = config.live_trading;
  const enabled = live.enabled && config.safety.live_trading_enabled;
  const accounts = live.allowed_accounts.length;
  const policy = live.policies.find((p) => p.id === live.risk_policy_id);
  const days = config.audit.retention_days;
  return [
    {
      name: "live_enabled",
      met: enabled,
      key: "live_trading.enabled and safety.live_trading_enabled",
      detail: enabled
        ? "live_trading.enabled and safety.live_trading_enabled are both true"
        : `live_trading.enabled is ${live.enabled} and safety.live_trading_enabled is ${config.safety.live_trading_enabled}; both must be true`,
    },
    {
      name: "checklist",
      met: live.paper_to_live_checklist_acknowledged,
      key: "live_trading.paper_to_live_checklist_acknowledged",
      detail: live.paper_to_live_checklist_acknowledged
        ? "the paper-to-live checklist is acknowledged"
        : "live_trading.paper_to_live_checklist_acknowledged is false; complete the checklist of the runbook first",
    },
    {
      name: "allowlist",
      met: accounts > 0,
      key: "live_trading.allowed_accounts",
      detail:
        accounts > 0
          ? `${accounts} account${accounts === 1 ? "" : "s"} on live_trading.allowed_accounts`
          : "live_trading.allowed_accounts is empty",
    },
    {
      name: "policy",
      met: policy !== undefined,
      key: "live_trading.risk_policy_id",
      detail:
        policy !== undefined
          ? `policy ${policy.id}${policy.enabled ? "" : " (disabled: it refuses every order)"}`
          : live.risk_policy_id === undefined
            ? "live_trading.risk_policy_id is not set"
            : `live_trading.risk_policy_id ${live.risk_policy_id} names no policy in live_trading.policies`,
    },
    {
      name: "retention",
      met: days >= LIVE_RETENTION_DAYS,
      key: `audit.retention_days of at least ${LIVE_RETENTION_DAYS}`,
      detail: `audit.retention_days is ${days}${days >= LIVE_RETENTION_DAYS ? "" : `; live trading needs at least ${LIVE_RETENTION_DAYS}`}`,
    },
  ];
}

export function safetyOperations(deps: OrderDeps) {
  const { store, clock, config } = deps;

  function status(): StatusOutput {
    const ks = store.killSwitch.get();
    return {
      state: ks.engaged ? "engaged" : "released",
      // Armed under another configuration does not count: the next live write would disarm it.
      live_armed: armedForCurrentConfig(deps),
      ...(ks.changedAt !== null ? { changed_at: toRfc3339(ks.changedAt) } : {}),
      ...(ks.changedBy !== null ? { changed_by: ks.changedBy } : {}),
      ...(ks.reason !== null ? { reason: ks.reason } : {}),
    };
  }

  /** Engages (or confirms) the switch and disarms live trading, in one transaction. */
  function engage(origin: EventOrigin, context: CallContext, reason: string) {
    const now = clock.now();
    return store.transaction(() => {
      const before = store.killSwitch.get();
      const already = before.engaged;
      const by = changedBy(context);
      const eventId = recordEvent(store, origin, {
        type: "kill_switch_engaged",
        metadata: {
          engaged_by: context.frontDoor === "cli" ? "operator" : "agent",
          already_engaged: already,
          reason: reason.slice(0, 500),
        },
      });
      if (!already) store.killSwitch.engage({ by, reason: reason.slice(0, 500), at: now, eventId });
      const arming = store.liveArming.get();
      if (arming.armed) {
        const disarmId = recordEvent(store, origin, {
          type: "live_disarmed",
          metadata: {
            cause: "kill_switch",
            armed_event_id: arming.eventId ?? undefined,
            armed_seconds:
              arming.armedAt === null ? undefined : Math.max(0, Math.round((now - arming.armedAt) / 1000)),
            reason: reason.slice(0, 500),
          },
        });
        store.liveArming.disarm({ by, cause: "kill_switch", at: now, eventId: disarmId });
      }
      const after = store.killSwitch.get();
      return {
        state: "engaged" as const,
        live_armed: false as const,
        already_engaged: already,
        changed_at: toRfc3339(after.changedAt ?? now),
        changed_by: after.changedBy ?? by,
        reason: after.reason ?? reason,
        audit_event_id: eventId,
      };
    });
  }

  const operations = {
    async "safety.killSwitchStatus"() {
      return status();
    },

    async "safety.killSwitchEngage"(args: Record<string, unknown>, context: OperationContext) {
      const { reason } = args as ToolInput<"ibkr_kill_switch_engage">;
      return engage({ kind: "call", context, tool: context.tool }, context, reason);
    },

    async "safety.limitsStatus"(args: Record<string, unknown>) {
      const { account_id: requested } = args as ToolInput<"ibkr_limits_status">;
      const accountId = requested.toUpperCase();
      const now = clock.now();
      const live = config.live_trading;
      const timestamp = toRfc3339(now);
      if (!live.enabled || live.risk_policy_id === undefined) {
        return {
          configured: false,
          message: live.enabled
            ? "Live trading is enabled but no live limit policy is selected (live_trading.risk_policy_id)."
            : "No live limit policy is in force: live trading is not enabled on this gateway.",
          account_id: accountId,
          timestamp,
        };
      }
      const policy = livePolicy(deps);
      const allowlisted = live.allowed_accounts.some((id) => id.toUpperCase() === accountId);
      const counters = liveCounters(store, store.hashAccountId(accountId), policy, now);
      const remaining = (max: number | undefined, used: number) =>
        max === undefined ? undefined : Math.max(0, max - used);
      const notionalLeft =
        policy.max_session_notional === undefined
          ? undefined
          : compare(policy.max_session_notional, counters.sessionNotional) > 0
            ? subtract(policy.max_session_notional, counters.sessionNotional)
            : "0";
      const windowLeft = remaining(policy.max_orders_per_window, counters.inWindow);
      const sessionLeft = remaining(policy.max_orders_per_session, counters.inSession);
      return {
        configured: true,
        message: allowlisted
          ? `Policy ${policy.id} applies to this account for trading day ${counters.tradingDay}.`
          : "The account is not on the live allowlist, so live orders for it are refused whatever the counters say.",
        account_id: accountId,
        account_allowlisted: allowlisted,
        policy_id: policy.id,
        trading_day: counters.tradingDay,
        // Without a frequency limit there is no window to count in.
        ...(policy.window_seconds !== undefined
          ? { window_seconds: policy.window_seconds, submitted_in_window: counters.inWindow }
          : {}),
        submitted_in_session: counters.inSession,
        session_notional: { amount: add(counters.sessionNotional, "0"), currency: policy.currency },
        ...(windowLeft !== undefined ? { remaining_window_orders: windowLeft } : {}),
        ...(sessionLeft !== undefined ? { remaining_session_orders: sessionLeft } : {}),
        ...(notionalLeft !== undefined
          ? { remaining_session_notional: { amount: notionalLeft, currency: policy.currency } }
          : {}),
        timestamp,
      };
    },
  };

  const procedures = {
    status,

    /** Releases the kill switch: operator only (terminal and PIN). Live trading stays disarmed. */
    release(context: CallContext, proof: OperatorProof | undefined, reason: string) {
      requireOperator(deps, context, proof, "release the kill switch");
      const now = clock.now();
      return store.transaction(() => {
        const before = store.killSwitch.get();
        if (!before.engaged) {
          throw new GatewayError("INPUT_INVALID_ARGUMENT", {
            message: "The kill switch is not engaged; there is nothing to release.",
            userAction: "Check it with `ibkr-agent kill-switch status`.",
            details: { field: "kill_switch" },
          });
        }
        const eventId = recordEvent(
          store,
          { kind: "call", context },
          {
            type: "kill_switch_released",
            metadata: {
              operator_verified: true,
              engaged_event_id: before.eventId ?? undefined,
              engaged_seconds:
                before.changedAt === null
                  ? undefined
                  : Math.max(0, Math.round((now - before.changedAt) / 1000)),
              reason: reason.slice(0, 500),
            },
          },
        );
        store.killSwitch.release({ by: "operator", at: now, eventId });
        return { ...status(), audit_event_id: eventId };
      });
    },

    /**
     * Engages the switch and asks the broker to cancel every working order of every account the login can
     * trade: the operator's panic button. Operator only, because it also pulls protective stops.
     */
    async engageAndCancelOpen(context: OperationContext, proof: OperatorProof | undefined, reason: string) {
      requireOperator(deps, context, proof, "engage the kill switch and cancel every working order");
      const origin: EventOrigin = { kind: "call", context, tool: "ibkr_kill_switch_engage" };
      const engaged = engage(origin, context, reason);
      const call = readCall(deps, context);
      const listing = await deps.accounts.listing(call.transport, { fresh: true });
      const brokerage = listing.brokerage as { accounts?: unknown } | null;
      const accounts = (Array.isArray(brokerage?.accounts) ? brokerage.accounts : []).filter(
        (id): id is string => typeof id === "string",
      );
      const cancelled: { account_id: string; broker_order_id: string; status: string }[] = [];
      const failed: { account_id: string; broker_order_id: string; code: string }[] = [];
      for (const accountId of accounts) {
        const orders = mapOrdersList((await getLiveOrders(call.transport, { query: { accountId } })).body, {
          accountId,
        });
        for (const order of orders.orders.filter((o) => WORKING.has(o.status))) {
          try {
            const answer = await cancelOrder(call.transport, {
              path: { accountId, orderId: Number(order.broker_order_id) },
            });
            const message = (answer.body as { msg?: unknown }).msg;
            recordEvent(store, origin, {
              type: "order_cancel_requested",
              accountId,
              metadata: {
                account_mode: accountId.startsWith("D") ? "paper" : "live",
                // The operator's emergency cancel goes straight to the broker, whatever writer is configured.
                writer: "broker",
                broker_order_id: order.broker_order_id,
                broker_status: typeof message === "string" ? message.slice(0, 100) : undefined,
                kill_switch_engaged: true,
              },
            });
            cancelled.push({
              account_id: accountId,
              broker_order_id: order.broker_order_id,
              status: "pending_cancel",
            });
          } catch (error) {
            const code = toGatewayError(error).code;
            recordEvent(store, origin, {
              type: "order_cancel_requested",
              result: "failed",
              errorCode: code,
              accountId,
              metadata: {
                writer: "broker",
                broker_order_id: order.broker_order_id,
                kill_switch_engaged: true,
              },
            });
            failed.push({ account_id: accountId, broker_order_id: order.broker_order_id, code });
          }
        }
      }
      return { ...engaged, cancelled, failed };
    },

    /** Arming, the kill switch and each live prerequisite of the configuration: what `live arm` would need. */
    liveStatus(): LiveStatus {
      const arming = store.liveArming.get();
      // Arming covers the live configuration it was given under; a changed one disarms at the next live write.
      const current = armedForCurrentConfig(deps);
      const ks = status();
      const prerequisites = livePrerequisites(config);
      return {
        armed: arming.armed,
        armed_for_current_config: current,
        ...(arming.armed && arming.armedAt !== null ? { armed_at: toRfc3339(arming.armedAt) } : {}),
        ...(!arming.armed && arming.cause !== null ? { disarmed_cause: arming.cause } : {}),
        ...(arming.changedAt !== null ? { changed_at: toRfc3339(arming.changedAt) } : {}),
        kill_switch: ks.state,
        prerequisites,
        ready_to_arm: !current && ks.state === "released" && prerequisites.every((p) => p.met),
      };
    },

    /** Arms live trading after the checklist: operator only. Covers the live configuration as it is now. */
    arm(context: CallContext, proof: OperatorProof | undefined, reason: string) {
      requireOperator(deps, context, proof, "arm live trading");
      const live = config.live_trading;
      // The policy is checked by livePolicy below, which names it with its own code.
      const missing = livePrerequisites(config)
        .filter((p) => !p.met && p.name !== "policy")
        .map((p) => p.key);
      if (missing.length > 0) {
        throw new GatewayError("LIVE_GATE_MISSING", {
          message: `Live trading cannot be armed: ${missing.join("; ")}.`,
          userAction:
            "Complete the live configuration and the paper-to-live checklist (docs/operator-runbook.md), then arm again.",
          details: { missing },
        });
      }
      const policy = livePolicy(deps);
      if (store.killSwitch.get().engaged) {
        throw new GatewayError("KILL_SWITCH_ENGAGED", {
          message: "Live trading cannot be armed while the kill switch is engaged.",
          userAction: "Find out why it was engaged (`ibkr-agent kill-switch status`), release it, then arm.",
        });
      }
      const now = clock.now();
      const hash = liveConfigHash(deps);
      return store.transaction(() => {
        const eventId = recordEvent(
          store,
          { kind: "call", context },
          {
            type: "live_armed",
            metadata: {
              operator_verified: true,
              risk_policy_id: policy.id,
              live_config_hash: hash,
              allowed_accounts_count: live.allowed_accounts.length,
              checklist_acknowledged: true,
              reason: reason.slice(0, 500),
            },
          },
        );
        store.liveArming.arm({ by: "operator", at: now, eventId, configHash: hash });
        return { armed: true, risk_policy_id: policy.id, armed_at: toRfc3339(now), audit_event_id: eventId };
      });
    },

    /** Disarms live trading; reducing what may be sent needs no PIN, but it is recorded. */
    disarm(context: CallContext, reason: string) {
      const now = clock.now();
      return store.transaction(() => {
        const arming = store.liveArming.get();
        if (!arming.armed) return { armed: false, changed: false };
        const eventId = recordEvent(
          store,
          { kind: "call", context },
          {
            type: "live_disarmed",
            metadata: {
              cause: "operator",
              armed_event_id: arming.eventId ?? undefined,
              armed_seconds:
                arming.armedAt === null ? undefined : Math.max(0, Math.round((now - arming.armedAt) / 1000)),
              reason: reason.slice(0, 500),
            },
          },
        );
        store.liveArming.disarm({ by: "operator", cause: "operator", at: now, eventId });
        return { armed: false, changed: true, audit_event_id: eventId };
      });
    },
  };

  return { operations, procedures };
}

export type SafetyProcedures = ReturnType<typeof safetyOperations>["procedures"];
