// The one path every tool call takes, from every front door (design §6):
//   name check -> input validated once with the tool's compiled schema -> scope gate -> operation (which runs
//   its own gates and workflow) -> output validated against the tool's output schema -> secret scan ->
//   exactly one tool_call audit event -> result.
// A failure at any step becomes a GatewayError that is audited the same way before it is returned, so the
// audit log sees every call, including refused and denied ones. If the audit event cannot be written, the
// call fails with AUDIT_WRITE_FAILED and its result is withheld (principle 4: nothing lost).
import type { ScopeName } from "../../generated/scopes.gen.ts";
import { inputCheck, outputCheck } from "../../generated/tools/checks.gen.ts";
import { FORBIDDEN_TOOLS, isToolName, TOOLS, type ToolName } from "../../generated/tools/registry.gen.ts";
import type {
  CallContext,
  OperationContext,
  OperationHandlers,
  RelayCallFacts,
} from "../core/call-context.ts";
import type { Clock } from "../core/clock.ts";
import { GatewayError, toGatewayError } from "../core/gateway-error.ts";

export type {
  CallContext,
  FrontDoor,
  OperationContext,
  OperationHandler,
  OperationHandlers,
  RelayCallFacts,
} from "../core/call-context.ts";

export type ToolCallDecision = "allow" | "deny" | "refuse";
export type ToolCallStatus = "completed" | "failed" | "uncertain" | "denied_scope" | "refused";

export interface ToolCallRecord {
  readonly context: CallContext;
  readonly tool: string;
  readonly decision: ToolCallDecision;
  readonly resultStatus: ToolCallStatus;
  readonly error: GatewayError | null;
  readonly input: unknown;
  readonly output: unknown;
  readonly durationMs: number;
  readonly brokerRequests: number;
  /** The call crossed the sidecar relay: what the context carried and the operation noted, merged. */
  readonly relay: RelayCallFacts | null;
}

/** Writes the one tool_call event of a call and returns its event id. */
export interface ToolCallAuditor {
  recordToolCall(record: ToolCallRecord): Promise<string>;
}

/** Finds secret material in an output before it leaves; returns the JSON paths found, empty when clean. */
export type SecretScanner = (value: unknown) => readonly string[];

export interface DispatcherOptions {
  readonly operations: OperationHandlers;
  readonly auditor: ToolCallAuditor;
  readonly scanSecrets: SecretScanner;
  readonly clock: Clock;
  /** Tools the configuration offers; others are not listed (calling one still reaches its own refusal). */
  readonly offered?: (tool: ToolName) => boolean;
}

export type DispatchOutcome =
  | { ok: true; result: unknown; auditEventId: string }
  | { ok: false; error: GatewayError };

export interface Dispatcher {
  dispatch(tool: string, args: unknown, context: CallContext): Promise<DispatchOutcome>;
  /**
   * Records a call a front door refused before dispatch (the CLI's --enable-paper style guard flags), so the
   * audit log sees it like any other refused call, and returns the refusal with its audit event id.
   */
  refuse(tool: ToolName, args: unknown, context: CallContext, error: GatewayError): Promise<DispatchOutcome>;
  /** Tools this context may list and call. */
  toolsFor(scopes: ReadonlySet<ScopeName>): ToolName[];
}

const NOTHING_NOTED = { brokerRequests: 0 } as const;

const FORBIDDEN = new Map<string, string>(Object.entries(FORBIDDEN_TOOLS));

/** Refusals come from input or policy; failures from the broker or the gateway itself. */
function statusOf(error: GatewayError): { decision: ToolCallDecision; resultStatus: ToolCallStatus } {
  if (error.code === "AUTH_MISSING_SCOPE") return { decision: "deny", resultStatus: "denied_scope" };
  if (error.code === "ORDER_OUTCOME_UNCERTAIN") return { decision: "allow", resultStatus: "uncertain" };
  if (REFUSAL_CODES.has(error.code)) return { decision: "refuse", resultStatus: "refused" };
  return { decision: "allow", resultStatus: "failed" };
}

/** Codes that mean "the gateway said no" rather than "it tried and failed". */
const REFUSAL_CODES = new Set<string>([
  "INPUT_INVALID_ARGUMENT",
  "INPUT_UNKNOWN_TOOL",
  "INPUT_MISSING_ACCOUNT",
  "INPUT_UNAUTHORIZED_ACCOUNT",
  "INPUT_AMBIGUOUS_CONTRACT",
  "INPUT_UNSUPPORTED_ASSET_CLASS",
  "INPUT_INVALID_CONTRACT",
  "INPUT_INVALID_TIME_RANGE",
  "INPUT_SCANNER_NOT_ALLOWED",
  "READONLY_WRITE_FORBIDDEN",
  "MARKET_DATA_STALE",
  "MARKET_DATA_DELAYED",
  "ORDER_PREVIEW_DISABLED",
  "ORDER_POLICY_REFUSED",
  "ORDER_VALIDATION_FAILED",
  "PAPER_TRADING_DISABLED",
  "PAPER_ACCOUNT_REFUSED",
  "PAPER_APPROVAL_REQUIRED",
  "APPROVAL_PREVIEW_MISMATCH",
  "APPROVAL_CONSUMED",
  "APPROVAL_EXPIRED",
  "APPROVAL_REVOKED",
  "APPROVAL_HUMAN_REQUIRED",
  "IDEMPOTENCY_CONFLICT",
  "KILL_SWITCH_ENGAGED",
  "LIVE_TRADING_DISABLED",
  "LIVE_NOT_ARMED",
  "LIVE_GATE_MISSING",
  "LIVE_LIMIT_REFUSED",
  "LIVE_MIGRATION_REQUIRED",
  "BROKER_QUESTION_UNAPPROVED",
  "SIDECAR_TIER_REFUSED",
  // The relay would not route the call: no pairing, a pairing or session that is no longer valid, or a
  // payload that must not cross. SIDECAR_UNAVAILABLE stays a failure: the relay tried.
  "SIDECAR_PAIRING_REQUIRED",
  "SIDECAR_SESSION_INVALID",
  "SIDECAR_PAYLOAD_REFUSED",
]);

/** Full TypeBox validators, loaded only to explain a value that failed its check (TypeBox's compiler is heavy). */
const validators = () => import("../../generated/tools/validators.gen.ts");

async function describeInvalidInput(tool: ToolName, args: unknown): Promise<GatewayError | null> {
  if ((await inputCheck(tool))(args)) return null;
  const validator = (await validators()).inputValidator(tool);
  const problems = validator
    .Errors(args)
    // An unknown argument is reported twice (as "schema is false" at its path and as additionalProperties
    // at its parent); keep the one that names the argument.
    .filter((error) => error.keyword !== "additionalProperties")
    .slice(0, 10)
    .map((error) => {
      const at = error.instancePath.replace(/^\//, "").replaceAll("/", ".");
      // A missing argument is reported at its parent; name the argument itself.
      const missing = (error.params as { requiredProperties?: unknown }).requiredProperties;
      if (error.keyword === "required" && Array.isArray(missing) && missing.length > 0) {
        return {
          field: [at, String(missing[0])].filter((part) => part !== "").join("."),
          problem: "is required",
        };
      }
      return {
        field: at || "(arguments)",
        problem: error.keyword === "boolean" ? "is not an argument of this tool" : error.message,
      };
    });
  const first = problems[0];
  return new GatewayError("INPUT_INVALID_ARGUMENT", {
    message: first ? `${first.field}: ${first.problem}` : "The arguments do not match the tool's schema.",
    details: { tool, problems },
  });
}

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { operations, auditor, scanSecrets, clock } = options;

  async function audited(
    tool: string,
    input: unknown,
    context: CallContext,
    started: number,
    noted: { brokerRequests: number; relay?: RelayCallFacts },
    outcome: { result: unknown } | { error: GatewayError },
  ): Promise<DispatchOutcome> {
    const error = "error" in outcome ? outcome.error : null;
    const relay: RelayCallFacts | null =
      context.relay === undefined && noted.relay === undefined
        ? null
        : ({ ...context.relay, ...noted.relay } as RelayCallFacts);
    const status = error
      ? statusOf(error)
      : { decision: "allow" as const, resultStatus: "completed" as const };
    let eventId: string;
    try {
      eventId = await auditor.recordToolCall({
        context,
        tool,
        ...status,
        error,
        input,
        output: error ? null : (outcome as { result: unknown }).result,
        durationMs: clock.now() - started,
        brokerRequests: noted.brokerRequests,
        relay,
      });
    } catch (thrown) {
      const auditError = toGatewayError(thrown);
      return {
        ok: false,
        error:
          auditError.code === "AUDIT_WRITE_FAILED"
            ? auditError
            : new GatewayError("AUDIT_WRITE_FAILED", { cause: thrown }),
      };
    }
    if (error) {
      error.auditEventId = eventId;
      return { ok: false, error };
    }
    return { ok: true, result: (outcome as { result: unknown }).result, auditEventId: eventId };
  }

  async function dispatch(tool: string, args: unknown, context: CallContext): Promise<DispatchOutcome> {
    const started = clock.now();
    if (!isToolName(tool)) {
      if (!FORBIDDEN.has(tool)) {
        // Unknown names are protocol errors (JSON-RPC unknown tool); they are not audited as tool calls.
        return {
          ok: false,
          error: new GatewayError("INPUT_UNKNOWN_TOOL", {
            message: `No tool is named "${tool.slice(0, 64)}".`,
          }),
        };
      }
      const error = new GatewayError("READONLY_WRITE_FORBIDDEN", {
        message: `${tool} is a forbidden generic write tool; use ${FORBIDDEN.get(tool)} instead.`,
      });
      return audited(tool, args, context, started, NOTHING_NOTED, { error });
    }
    const invalid = await describeInvalidInput(tool, args);
    if (invalid) return audited(tool, args, context, started, NOTHING_NOTED, { error: invalid });
    const definition = TOOLS[tool];
    if (!context.scopes.has(definition.scope)) {
      const error = new GatewayError("AUTH_MISSING_SCOPE", {
        message: `${tool} needs the scope ${definition.scope}.`,
        details: { required_scope: definition.scope },
      });
      return audited(tool, args, context, started, NOTHING_NOTED, { error });
    }
    const noted: { brokerRequests: number; relay?: RelayCallFacts } = { brokerRequests: 0 };
    const operationContext: OperationContext = {
      ...context,
      tool,
      noteBrokerRequest: () => {
        noted.brokerRequests += 1;
      },
      noteRelay: (facts) => {
        noted.relay = { ...noted.relay, ...facts };
      },
    };
    let result: unknown;
    try {
      result = await operations[definition.operation](args as Record<string, unknown>, operationContext);
    } catch (thrown) {
      return audited(tool, args, context, started, noted, { error: toGatewayError(thrown) });
    }
    if (!(await outputCheck(tool))(result)) {
      const errors = (await validators()).outputValidator(tool).Errors(result);
      const error = new GatewayError("OUTPUT_UNSAFE", {
        message: `${tool} produced a result that does not match its contract, so it was withheld.`,
        details: { problems: errors.slice(0, 5).map((e) => `${e.instancePath || "(result)"}: ${e.message}`) },
      });
      return audited(tool, args, context, started, noted, { error });
    }
    const leaks = scanSecrets(result);
    if (leaks.length > 0) {
      const error = new GatewayError("OUTPUT_UNSAFE", {
        message: `${tool} produced a result containing secret-looking material, so it was withheld.`,
        details: { paths: leaks.slice(0, 10) },
      });
      return audited(tool, args, context, started, noted, { error });
    }
    return audited(tool, args, context, started, noted, { result });
  }

  function toolsFor(scopes: ReadonlySet<ScopeName>): ToolName[] {
    const offered = options.offered ?? (() => true);
    return (Object.keys(TOOLS) as ToolName[]).filter(
      (name) => scopes.has(TOOLS[name].scope) && offered(name),
    );
  }

  async function refuse(tool: ToolName, args: unknown, context: CallContext, error: GatewayError) {
    return audited(tool, args, context, clock.now(), NOTHING_NOTED, { error });
  }

  return { dispatch, toolsFor, refuse };
}
