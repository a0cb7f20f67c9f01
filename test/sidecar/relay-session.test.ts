// The relay in one process over real sockets: a remote gateway (broker.backend relay) routes tool calls to
// the paired sidecar's daemon, which runs them on its own gateway against the simulator. Both sides audit.

import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { DEFAULT_VALUES } from "../../src/config/default-values.ts";
import type { LoadedConfig } from "../../src/config/load-core.ts";
import { systemClock } from "../../src/core/clock.ts";
import { sidecarIdOf } from "../../src/sidecar/identity.ts";
import { checkedBody, createChannel, publicKeyFromRaw } from "../../src/sidecar/protocol/index.ts";
import { relayLimits, sessionTtlMs } from "../../src/sidecar/relay-backend.ts";
import { PAIRING_ID, type RelayPairHarness, startRelayPair, USER } from "./relay-support.ts";

let h: RelayPairHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("a tool call through the relay", () => {
  it("runs on the sidecar and both sides audit it with the same request id and payload hash", async () => {
    h = await startRelayPair();
    const outcome = await h.call("ibkr_accounts_list");
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.result).toMatchObject({ source: { backend: "simulator", simulated: true } });

    const [remoteCall] = h.remoteEvents("tool_call");
    const [sidecarCall] = h.sidecarEvents("tool_call");
    expect(remoteCall).toMatchObject({ front_door: "mcp_http", principal: USER, result_status: "completed" });
    expect(sidecarCall).toMatchObject({
      front_door: "relay",
      principal: expect.stringMatching(
        /^relay:sidecar:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      ),
      result_status: "completed",
      request_id: remoteCall?.request_id,
    });
    // One event per call per side: the relay facts are in each side's tool_call.
    expect(h.remoteEvents("tool_call")).toHaveLength(1);
    expect(h.sidecarEvents("tool_call")).toHaveLength(1);
    expect(remoteCall?.metadata).toMatchObject({
      relay_side: "remote",
      relay_answer: "result",
      pairing_id: PAIRING_ID,
      sidecar_id: h.sidecarId,
      relay_session_id: expect.stringMatching(/^relay-/),
    });
    expect(remoteCall?.metadata.relay_round_trip_ms).toEqual(expect.any(Number));
    expect(sidecarCall?.metadata).toMatchObject({
      relay_side: "sidecar",
      relay_answer: "result",
      pairing_id: PAIRING_ID,
      sidecar_id: h.sidecarId,
      relay_session_id: remoteCall?.metadata.relay_session_id,
    });
    expect(remoteCall?.metadata.payload_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(sidecarCall?.metadata.payload_hash).toBe(remoteCall?.metadata.payload_hash);
    // Calls made on the sidecar itself carry no relay facts.
    const local = await h.sidecar.dispatch("ibkr_accounts_list", {}, h.sidecar.context());
    expect(local.ok).toBe(true);
    expect(
      Object.keys(h.sidecarEvents("tool_call")[1]?.metadata ?? {}).filter((k) => k.includes("relay")),
    ).toEqual([]);
    expect(h.remoteEvents("relay_session_opened")).toHaveLength(1);
    expect(h.sidecarEvents("relay_session_opened")).toHaveLength(1);
  });
});

describe("the relay limits", () => {
  it("come from the sidecar.* configuration keys, each defaulting as the config schema says", () => {
    // The sidecar section as loading fills it in: the schema's defaults (DEFAULT_VALUES) under what is set.
    const loaded = (sidecar: Record<string, unknown>) =>
      ({ config: { sidecar: { ...DEFAULT_VALUES.sidecar, ...sidecar } } }) as unknown as LoadedConfig;
    const configured = loaded({
      request_timeout_seconds: 5,
      max_message_bytes: 65_536,
      max_in_flight: 2,
      max_clock_skew_seconds: 10,
      session_ttl_seconds: 120,
      heartbeat_interval_seconds: 3,
      heartbeat_timeout_seconds: 9,
    });
    expect(relayLimits(configured)).toEqual({
      max_message_bytes: 65_536,
      max_in_flight: 2,
      heartbeat_interval_seconds: 3,
      heartbeat_timeout_seconds: 9,
      request_timeout_seconds: 5,
      max_clock_skew_seconds: 10,
    });
    expect(sessionTtlMs(configured)).toBe(120_000);
    // Unset keys take the schema's defaults.
    expect(relayLimits(loaded({}))).toEqual({
      max_message_bytes: 1_048_576,
      max_in_flight: 16,
      heartbeat_interval_seconds: 15,
      heartbeat_timeout_seconds: 45,
      request_timeout_seconds: 30,
      max_clock_skew_seconds: 30,
    });
    expect(sessionTtlMs(loaded({}))).toBe(3_600_000);
  });

  it("the remote enforces its request timeout and in-flight cap from them", async () => {
    h = await startRelayPair({ noDaemon: true, limits: { request_timeout_seconds: 1, max_in_flight: 1 } });
    // A sidecar that completes the handshake and then never answers a call.
    const ws = new WebSocket(h.relayUrl);
    const channel = createChannel({
      self: "sidecar",
      privateKey: h.sidecarKey.privateKey,
      peerKey: publicKeyFromRaw(h.remoteKey.raw),
      clock: systemClock,
      maxMessageBytes: 1024 * 1024,
      maxClockSkewMs: 30_000,
    });
    const frames: string[] = [];
    let wake: (() => void) | undefined;
    ws.on("message", (raw: Buffer) => {
      frames.push(raw.toString());
      wake?.();
    });
    const next = async () => {
      while (frames.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      return channel.open(frames.shift() as string);
    };
    await new Promise((resolve) => ws.once("open", resolve));
    const key = h.sidecarKey.raw;
    ws.send(channel.seal("hello", { sidecar_key: key, sidecar_id: sidecarIdOf(key), nonce: "n" }));
    const challenge = checkedBody(await next(), "challenge");
    expect(challenge.limits).toMatchObject({ request_timeout_seconds: 1, max_in_flight: 1 });
    ws.send(
      channel.seal("auth", {
        challenge: challenge.challenge,
        remote_instance_id: challenge.remote_instance_id,
      }),
    );
    checkedBody(await next(), "ready");
    const first = h.call("ibkr_accounts_list");
    expect((await next()).type).toBe("call");
    const second = await h.call("ibkr_accounts_list");
    expect(second.ok ? null : second.error.message).toBe("The sidecar already has 1 calls in flight.");
    const timedOut = await first;
    expect(timedOut.ok ? null : timedOut.error.message).toContain("did not answer within 1 s");
    ws.terminate();
  });
});
