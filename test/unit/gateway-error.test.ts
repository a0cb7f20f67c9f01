// GatewayError and its presentation on each front door, all derived from the generated catalogue.
import { describe, expect, it } from "vitest";
import {
  cliErrorJson,
  cliErrorText,
  cliExitCode,
  httpErrorResponse,
  mcpToolErrorResult,
} from "../../src/core/error-mapping.ts";
import { GatewayError, isGatewayError, toGatewayError, toWireError } from "../../src/core/gateway-error.ts";

describe("GatewayError", () => {
  it("takes message, action and retryability from the catalogue", () => {
    const error = new GatewayError("BROKER_SESSION_REQUIRED");
    expect(error.message).toBe("The Client Portal Gateway has no authenticated brokerage session.");
    expect(error.userAction).toBe(
      "Log in to the Client Portal Gateway in a browser on the machine where it runs, then call again.",
    );
    expect(error.retryable).toBe(true);
  });

  it("is recognised by code, not by class", () => {
    const plain = { code: "AUTH_MISSING_SCOPE", message: "Missing scope ibkr:accounts:read" };
    expect(isGatewayError(plain)).toBe(true);
    expect(isGatewayError({ code: "NOT_A_CODE", message: "x" })).toBe(false);
    expect(isGatewayError(new Error("boom"))).toBe(false);
    expect(toGatewayError(plain).code).toBe("AUTH_MISSING_SCOPE");
  });

  it("turns an unexpected exception into INTERNAL_ERROR without leaking its text", () => {
    const error = toGatewayError(new Error("secret=hunter2 at /home/user/.ibkr"));
    expect(error.code).toBe("INTERNAL_ERROR");
    expect(JSON.stringify(toWireError(error))).not.toContain("hunter2");
  });

  it("uses snake_case on the wire", () => {
    const error = new GatewayError("KILL_SWITCH_ENGAGED", { auditEventId: "evt_1" });
    expect(toWireError(error)).toEqual({
      code: "KILL_SWITCH_ENGAGED",
      message:
        "The kill switch is engaged; order submits and modifies are stopped. Cancels are still allowed.",
      retryable: false,
      user_action:
        "Only the operator can release it, with `ibkr-agent kill-switch release --reason ...` in a terminal.",
      audit_event_id: "evt_1",
    });
  });
});

describe("front-door mapping", () => {
  const error = new GatewayError("INPUT_INVALID_ARGUMENT", {
    message: "account_id: must match pattern",
    details: { field: "account_id" },
  });

  it("gives the CLI the catalogue's exit code, JSON and text", () => {
    expect(cliExitCode(error)).toBe(2);
    expect(cliExitCode(new GatewayError("CONFIG_INVALID"))).toBe(7);
    expect(cliErrorJson(error).error.details).toEqual({ field: "account_id" });
    expect(cliErrorText(error)).toBe(
      "Error INPUT_INVALID_ARGUMENT: account_id: must match pattern\n" +
        "What to do: Fix the argument named in the error (see the tool's input schema or `--help`) and call again.",
    );
  });

  it("gives MCP an isError tool result with structuredContent.error", () => {
    const result = mcpToolErrorResult(error);
    expect(result.isError).toBe(true);
    expect(result.structuredContent.error.code).toBe("INPUT_INVALID_ARGUMENT");
    expect(result.content[0]?.text).toContain("INPUT_INVALID_ARGUMENT: account_id: must match pattern");
  });

  it("gives HTTP the catalogue's status", () => {
    expect(httpErrorResponse(new GatewayError("AUTH_TOKEN_EXPIRED")).status).toBe(401);
    expect(httpErrorResponse(new GatewayError("AUTH_MISSING_SCOPE")).status).toBe(403);
    expect(httpErrorResponse(new GatewayError("AUTH_RATE_LIMITED")).status).toBe(429);
  });
});
