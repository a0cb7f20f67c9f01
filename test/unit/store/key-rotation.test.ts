import { describe, expect, it } from "vitest";
import { isGatewayError } from "../../../src/core/gateway-error.ts";
import { openStore } from "../../../src/store/index.ts";
import { appendMany, fixture, SECRET_1, SECRET_2, toolCall } from "./helpers.ts";

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isGatewayError(error)) return error.code;
    throw error;
  }
  return "no error";
}

describe("audit key rotation", () => {
  it("continues the chain under the new key and verifies with both secrets", () => {
    const f = fixture();
    const store = f.open();
    appendMany(store, 4);
    const before = store.hashAccountId("U1234567");
    const rotation = store.rotateKey(SECRET_2, "k2", { keySource: "env", reason: "scheduled" });
    expect(rotation).toMatchObject({ previous_key_id: "k1", new_key_id: "k2", live_disarmed: false });
    expect(store.keyId).toBe("k2");
    const after = store.append(toolCall(5));
    expect(after.key_id).toBe("k2");
    expect(store.hashAccountId("U1234567")).not.toBe(before);

    const events = [...store.exportEvents()];
    // 4 calls, the rotation checkpoint (k1), the rotation event (k1), then the new event (k2).
    expect(events.map((e) => [e.sequence, e.event_type, e.key_id])).toEqual([
      [1, "tool_call", "k1"],
      [2, "tool_call", "k1"],
      [3, "tool_call", "k1"],
      [4, "tool_call", "k1"],
      [5, "audit_checkpoint", "k1"],
      [6, "audit_key_rotated", "k1"],
      [7, "tool_call", "k2"],
    ]);
    expect(events[5]?.metadata).toEqual({
      previous_key_id: "k1",
      new_key_id: "k2",
      key_source: "env",
      reason: "scheduled",
      checkpoint_event_id: rotation.checkpoint_event_id,
    });
    expect(events[6]?.prev_hash).toBe(events[5]?.chain_hash);
    expect(store.verify()).toMatchObject({ chain_valid: true, events_scanned: 7, key_ids: ["k1", "k2"] });
    store.close();

    const both = openStore({
      path: f.path,
      secrets: { auditSecret: SECRET_2, keyId: "k2", previousSecrets: [{ keyId: "k1", secret: SECRET_1 }] },
    });
    expect(both.verify()).toMatchObject({ chain_valid: true, events_scanned: 7 });
    expect(both.append(toolCall(6)).sequence).toBe(8);
    both.close();

    const onlyNew = openStore({ path: f.path, secrets: { auditSecret: SECRET_2, keyId: "k2" } });
    expect(onlyNew.verify()).toMatchObject({
      chain_valid: false,
      first_break_sequence: 1,
      break_kind: "unknown_key",
    });
    onlyNew.close();
  });

  it("stops a process still holding the old key from appending after the rotation", () => {
    const f = fixture();
    const rotating = f.open();
    const stale = f.open();
    appendMany(rotating, 2);
    rotating.rotateKey(SECRET_2, "k2");
    let caught: unknown;
    try {
      stale.append(toolCall(3));
    } catch (error) {
      caught = error;
    }
    expect(isGatewayError(caught) && caught.code).toBe("AUDIT_WRITE_FAILED");
    expect(isGatewayError(caught) && caught.retryable).toBe(false);
    rotating.append(toolCall(3));
    expect(rotating.verify().chain_valid).toBe(true);
    rotating.close();
    stale.close();
  });

  it("refuses a wrong secret for a known key id, a reused key id and a short secret", () => {
    const f = fixture();
    const store = f.open();
    appendMany(store, 1);
    expect(codeOf(() => store.rotateKey(SECRET_2, "k1"))).toBe("CONFIG_INVALID");
    store.close();
    expect(codeOf(() => openStore({ path: f.path, secrets: { auditSecret: SECRET_2 } }))).toBe(
      "CONFIG_INVALID",
    );
    expect(codeOf(() => openStore({ path: f.path, secrets: { auditSecret: "too short" } }))).toBe(
      "CONFIG_SECRET_MISSING",
    );
  });

  it("disarms live trading when the key rotates", () => {
    const f = fixture();
    const store = f.open();
    const armed = store.append({
      ...store.systemContext(),
      event_type: "live_armed",
      decision: "allow",
      result_status: "completed",
    });
    store.liveArming.arm({ by: "local:operator", at: f.clock.now(), eventId: armed.event_id });
    f.clock.advance(90_000);
    const rotation = store.rotateKey(SECRET_2, "k2");
    expect(rotation.live_disarmed).toBe(true);
    expect(store.liveArming.get()).toMatchObject({ armed: false, cause: "key_rotated" });
    const last = [...store.exportEvents()].at(-1);
    expect(last).toMatchObject({
      event_type: "live_disarmed",
      key_id: "k2",
      metadata: { cause: "key_rotated", armed_event_id: armed.event_id, armed_seconds: 90 },
    });
    expect(store.verify().chain_valid).toBe(true);
    store.close();
  });
});
