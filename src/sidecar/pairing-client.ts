// The sidecar's side of pairing: claim a code at the remote gateway over HTTPS with this profile's public key,
// keep what the remote answered (its instance id and public key, so the relay can check the remote's
// messages), and end the pairing locally on `sidecar unpair`, telling the remote with a signed request when
// it can be reached. Only the public key and the code travel; no token, cookie or private key.
//
// The remote's address is its relay endpoint (sidecar.remote_url or --remote), e.g.
// https://gateway.example.com/relay; the WebSocket, the claim and the unpair endpoints derive from it.
import { readFileSync } from "node:fs";
import { Agent, request } from "undici";
import { type ErrorCode, isErrorCode } from "../../generated/errors.gen.ts";
import { TIERS } from "../../generated/scopes.gen.ts";
import type { Config } from "../config/schema.ts";
import type { CallContext } from "../core/call-context.ts";
import { type Clock, systemClock, toRfc3339 } from "../core/clock.ts";
import { GatewayError } from "../core/gateway-error.ts";
import type { Store } from "../store/index.ts";
import { auditContextOf } from "../workflows/audit/events.ts";
import {
  fingerprintOf,
  normalizeFingerprint,
  parsePublicKey,
  type RelayIdentity,
  remoteInstanceIdOf,
} from "./identity.ts";
import type { ClaimAnswer, ClaimRequest } from "./pairing-claim.ts";
import { signUnpair } from "./pairing-claim.ts";
import { recordPairingEnded } from "./pairing-events.ts";
import { type RemotePairingView, remotePairingView } from "./pairing-views.ts";

export interface RelayEndpoints {
  /** The relay endpoint as https (the base of the others). */
  readonly relay: string;
  /** Where `sidecar run` opens its WebSocket (wss). */
  readonly websocket: string;
  readonly pair: string;
  readonly unpair: string;
}

const DEFAULT_RELAY_PATH = "/relay";
const TIMEOUT_MS = 15_000;
const MAX_ANSWER_BYTES = 65_536;

function badRemote(text: string): GatewayError {
  return new GatewayError("CONFIG_INVALID", {
    message: `The remote URL ${text} cannot be used: it must be https:// or wss:// with a host, without user name, password, query or fragment.`,
    userAction: "Give the remote gateway's relay endpoint, e.g. --remote https://gateway.example.com/relay.",
    details: { field: "remote" },
  });
}

/** The endpoints of a remote relay URL (https or wss; a bare origin means /relay). */
export function relayEndpoints(text: string): RelayEndpoints {
  const url = URL.parse(text);
  if (
    url === null ||
    (url.protocol !== "https:" && url.protocol !== "wss:") ||
    url.hostname === "" ||
    url.username !== "" ||
    url.password !== "" ||
    url.search !== "" ||
    url.hash !== ""
  ) {
    throw badRemote(text);
  }
  const path =
    url.pathname === "/" || url.pathname === "" ? DEFAULT_RELAY_PATH : url.pathname.replace(/\/+$/, "");
  const origin = `${url.host}${path}`;
  return {
    relay: `https://${origin}`,
    websocket: `wss://${origin}`,
    pair: `https://${origin}/pair`,
    unpair: `https://${origin}/unpair`,
  };
}

/** --remote, else sidecar.remote_url; both given must name the same endpoint. */
export function chooseRemote(config: Config, remote: string | undefined): RelayEndpoints {
  const configured = config.sidecar.remote_url;
  if (remote === undefined && configured === undefined) {
    throw new GatewayError("CONFIG_SIDECAR_FORBIDDEN", {
      message: "No remote gateway to pair with: neither --remote nor sidecar.remote_url is set.",
      userAction:
        "Pass --remote https://gateway.example.com/relay, or set sidecar.remote_url in the config file.",
    });
  }
  const chosen = relayEndpoints(remote ?? configured ?? "");
  if (remote !== undefined && configured !== undefined && relayEndpoints(configured).relay !== chosen.relay) {
    throw new GatewayError("CONFIG_INVALID", {
      message: `--remote names another gateway than sidecar.remote_url (${configured}).`,
      userAction:
        "Pair with the gateway the configuration connects to: drop --remote, or change sidecar.remote_url first.",
      details: { field: "remote" },
    });
  }
  return chosen;
}

/** The sidecar may pair only when its configuration turns the relay on (fail closed). */
export function requireSidecarRole(config: Config): void {
  if (config.broker.backend === "relay") {
    throw new GatewayError("CONFIG_SIDECAR_FORBIDDEN", {
      message: "This is a relay gateway (broker.backend relay): it issues pairing codes, it does not pair.",
      userAction:
        "Run `ibkr-agent sidecar pair` on the user's machine, with the config of the profile that talks to the Client Portal Gateway.",
    });
  }
  if (!config.sidecar.enabled || !config.safety.sidecar_enabled) {
    throw new GatewayError("CONFIG_SIDECAR_FORBIDDEN", {
      message: "The sidecar relay is not enabled in this configuration.",
      userAction:
        "Set sidecar.enabled and safety.sidecar_enabled to true and sidecar.remote_url to the remote gateway's relay endpoint (docs/sidecar.md).",
    });
  }
}

interface HttpAnswer {
  readonly status: number;
  readonly body: unknown;
}

async function postJson(config: Config, url: string, payload: unknown): Promise<HttpAnswer> {
  const caFile = config.sidecar.remote_ca_file;
  const agent = new Agent({
    connect: caFile !== undefined ? { ca: readFileSync(caFile, "utf8") } : {},
    headersTimeout: TIMEOUT_MS,
    bodyTimeout: TIMEOUT_MS,
    connectTimeout: TIMEOUT_MS,
  });
  try {
    // undici.request follows no redirects: a 3xx is an answer like any other, and refused below.
    const response = await request(url, {
      method: "POST",
      dispatcher: agent,
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(payload),
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_ANSWER_BYTES) {
        response.body.destroy();
        throw new Error("answer too large");
      }
      chunks.push(chunk);
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      body = undefined;
    }
    return { status: response.statusCode, body };
  } catch (error) {
    throw new GatewayError("SIDECAR_UNAVAILABLE", {
      message: `The remote gateway at ${new URL(url).origin} could not be reached or gave no usable answer.`,
      userAction:
        "Check the URL, the network and the remote's certificate (sidecar.remote_ca_file for a private CA), then try again.",
      cause: error,
    });
  } finally {
    await agent.close();
  }
}

/** A remote's error answer as a GatewayError of the same code (its message and action are the remote's). */
function remoteError(answer: HttpAnswer): GatewayError {
  const wire = (answer.body as { error?: Record<string, unknown> } | undefined)?.error;
  const code =
    typeof wire?.code === "string" && isErrorCode(wire.code) ? (wire.code as ErrorCode) : undefined;
  if (code === undefined) {
    return new GatewayError("SIDECAR_UNAVAILABLE", {
      message: `The remote gateway answered HTTP ${answer.status} without a usable error.`,
      userAction: "Check that --remote names the relay endpoint of an ibkr-agent gateway (…/relay).",
    });
  }
  return new GatewayError(code, {
    ...(typeof wire?.message === "string" ? { message: wire.message.slice(0, 500) } : {}),
    ...(typeof wire?.user_action === "string" ? { userAction: wire.user_action.slice(0, 500) } : {}),
  });
}

function checkAnswer(body: unknown, identity: RelayIdentity): ClaimAnswer {
  const a = (body ?? {}) as Record<string, unknown>;
  const key = typeof a.remote_key === "string" ? a.remote_key : "";
  const ok =
    typeof a.pairing_id === "string" &&
    /^pairing-[0-9a-f-]{36}$/.test(a.pairing_id) &&
    parsePublicKey(key) !== undefined &&
    a.remote_instance_id === remoteInstanceIdOf(key) &&
    a.remote_fingerprint === fingerprintOf(key) &&
    typeof a.approve_before === "string" &&
    Number.isFinite(Date.parse(a.approve_before)) &&
    typeof a.pairing_ttl_days === "number";
  if (!ok) {
    throw new GatewayError("SIDECAR_UNAVAILABLE", {
      message: "The remote gateway's answer to the claim is not a pairing answer of this version.",
      userAction:
        "Check that --remote names the relay endpoint of an ibkr-agent gateway of the same version.",
    });
  }
  // The remote saw some key; it must be ours, or something between the two changed it.
  if (a.sidecar_fingerprint !== identity.fingerprint) {
    throw new GatewayError("SIDECAR_FINGERPRINT_MISMATCH", {
      message:
        "The remote received another public key than this sidecar's: something between the two altered the claim.",
      userAction:
        "Do not let the operator approve it: tell them to revoke the pairing, and pair again over a network you trust.",
    });
  }
  return a as unknown as ClaimAnswer;
}

export interface ClaimOptions {
  readonly config: Config;
  readonly store: Store;
  readonly identity: RelayIdentity;
  readonly code: string;
  /** --remote; default sidecar.remote_url. */
  readonly remote?: string;
  /** When the operator told the user the remote's fingerprint: refuse a remote with another key. */
  readonly expectRemoteFingerprint?: string;
  readonly clock?: Clock;
}

export interface ClaimedPairing {
  readonly pairing: RemotePairingView;
  readonly sidecar_fingerprint: string;
  readonly remote_fingerprint: string;
  /** What the operator types to approve (the user reads it out or sends it). */
  readonly approve_command: string;
}

export async function claimPairing(options: ClaimOptions, context: CallContext): Promise<ClaimedPairing> {
  const { config, store, identity } = options;
  const clock = options.clock ?? systemClock;
  requireSidecarRole(config);
  const endpoints = chooseRemote(config, options.remote);
  const expectRemote =
    options.expectRemoteFingerprint === undefined
      ? undefined
      : normalizeFingerprint(options.expectRemoteFingerprint);
  if (options.expectRemoteFingerprint !== undefined && expectRemote === undefined) {
    throw new GatewayError("INPUT_INVALID_ARGUMENT", {
      message: "--remote-fingerprint is not a fingerprint (eight groups of four letters and digits 2-7).",
      details: { field: "remote-fingerprint" },
    });
  }
  const current = store.remotePairings.current();
  if (current !== null && current.status === "active" && (current.expiresAt ?? 0) > clock.now()) {
    throw new GatewayError("SIDECAR_PAIRING_REQUIRED", {
      message: `This sidecar is paired already (${current.pairingId} with ${current.remoteUrl}).`,
      userAction: "Run `ibkr-agent sidecar unpair` first if you mean to pair it anew.",
      details: { pairing_id: current.pairingId },
    });
  }
  const request: ClaimRequest = {
    code: options.code,
    sidecar_key: identity.publicKeyRaw,
    sidecar_id: identity.sidecarId,
    accepted_tiers: TIERS.filter((tier) => config.sidecar.accepted_tiers.includes(tier)),
  };
  // A refused claim is recorded here too: the remote's refusal, an unreachable remote, and above all a
  // fingerprint that does not match (someone between the two, or the wrong gateway).
  const refused = (check: string, error: GatewayError): GatewayError => {
    const event = store.append({
      ...auditContextOf(context),
      event_type: "relay_pairing_claimed",
      decision: "refuse",
      result_status: "refused",
      error_code: error.code,
      metadata: {
        side: "sidecar",
        sidecar_id: identity.sidecarId,
        public_key_sha256: identity.publicKeySha256,
        check,
      },
    });
    error.auditEventId = event.event_id;
    return error;
  };
  let claim: ClaimAnswer;
  try {
    const answer = await postJson(config, endpoints.pair, request);
    if (answer.status !== 200) throw refused("remote_refused", remoteError(answer));
    claim = checkAnswer(answer.body, identity);
  } catch (error) {
    const e = error as GatewayError;
    if (e.auditEventId !== undefined) throw e;
    throw refused(e.code === "SIDECAR_FINGERPRINT_MISMATCH" ? "fingerprint_mismatch" : "unreachable", e);
  }
  if (expectRemote !== undefined && expectRemote !== claim.remote_fingerprint) {
    throw refused(
      "fingerprint_mismatch",
      new GatewayError("SIDECAR_FINGERPRINT_MISMATCH", {
        message: `The remote gateway's key has fingerprint ${claim.remote_fingerprint}, not the one you were given.`,
        userAction:
          "Do not use this pairing: tell the remote's operator, who should revoke it (`ibkr-agent sidecar pairing revoke`).",
      }),
    );
  }
  const now = clock.now();
  store.transaction(() => {
    // A claim that never got confirmed is replaced by the new one.
    if (current !== null) {
      store.remotePairings.revoke(current.pairingId, {
        at: now,
        by: "sidecar_owner",
        reason: `replaced by ${claim.pairing_id}`,
      });
    }
    store.remotePairings.insert({
      pairingId: claim.pairing_id,
      remoteUrl: endpoints.relay,
      remoteInstanceId: claim.remote_instance_id,
      remotePublicKey: claim.remote_key,
      sidecarId: identity.sidecarId,
      claimedAt: now,
      approveBefore: Date.parse(claim.approve_before),
    });
    store.append({
      ...auditContextOf(context),
      event_type: "relay_pairing_claimed",
      decision: "allow",
      result_status: "completed",
      metadata: {
        side: "sidecar",
        pairing_id: claim.pairing_id,
        sidecar_id: identity.sidecarId,
        remote_instance_id: claim.remote_instance_id,
        public_key_sha256: identity.publicKeySha256,
        accepted_tiers: [...(request.accepted_tiers ?? [])],
        approve_before: toRfc3339(Date.parse(claim.approve_before)),
      },
    });
  });
  const stored = store.remotePairings.get(claim.pairing_id);
  if (stored === null) throw new GatewayError("INTERNAL_ERROR", { message: "The pairing was not stored." });
  return {
    pairing: remotePairingView(stored, now),
    sidecar_fingerprint: identity.fingerprint,
    remote_fingerprint: claim.remote_fingerprint,
    approve_command: `ibkr-agent sidecar pairing approve ${claim.pairing_id} --fingerprint ${identity.fingerprint}`,
  };
}

export interface UnpairOptions {
  readonly config: Config;
  readonly store: Store;
  readonly identity: RelayIdentity | undefined;
  readonly reason: string;
  /** Tell the remote (default true); the local pairing ends either way. */
  readonly notifyRemote?: boolean;
  readonly clock?: Clock;
}

export interface UnpairResult {
  readonly pairing: RemotePairingView;
  /** notified, not_notified (asked not to), or failed with the reason the remote could not be told. */
  readonly remote: "notified" | "not_notified" | "failed";
  readonly remote_error?: { readonly code: string; readonly message: string };
}

export async function unpairLocal(options: UnpairOptions, context: CallContext): Promise<UnpairResult> {
  const { store } = options;
  const clock = options.clock ?? systemClock;
  const current = store.remotePairings.current();
  if (current === null) {
    throw new GatewayError("SIDECAR_PAIRING_REQUIRED", {
      message: "This sidecar is not paired with any remote gateway.",
      userAction: "Nothing to undo. To pair, run `ibkr-agent sidecar pair CODE --remote URL`.",
    });
  }
  const now = clock.now();
  store.transaction(() => {
    if (
      !store.remotePairings.revoke(current.pairingId, {
        at: now,
        by: "sidecar_owner",
        reason: options.reason,
      })
    )
      return;
    recordPairingEnded(store, auditContextOf(context), {
      side: "sidecar",
      pairingId: current.pairingId,
      sidecarId: current.sidecarId,
      revokedBy: "sidecar_owner",
      previousStatus: current.status,
      reason: options.reason,
    });
  });
  const ended = store.remotePairings.get(current.pairingId) ?? current;
  if (options.notifyRemote === false || options.identity === undefined) {
    return { pairing: remotePairingView(ended, now), remote: "not_notified" };
  }
  try {
    const signed = signUnpair(
      {
        pairing_id: current.pairingId,
        sidecar_id: current.sidecarId,
        sent_at: new Date(now).toISOString(),
        reason: options.reason,
      },
      options.identity.privateKey,
    );
    const answer = await postJson(options.config, relayEndpoints(current.remoteUrl).unpair, signed);
    if (answer.status !== 200) throw remoteError(answer);
    return { pairing: remotePairingView(ended, now), remote: "notified" };
  } catch (error) {
    const e = error as GatewayError;
    return {
      pairing: remotePairingView(ended, now),
      remote: "failed",
      remote_error: { code: e.code ?? "INTERNAL_ERROR", message: e.message },
    };
  }
}
