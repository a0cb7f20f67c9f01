// Pairing end to end as two people on two machines meet it, each step its own CLI process: the remote
// gateway's operator issues a code, the user pairs their sidecar with it over real HTTPS (a server with a
// self-signed certificate mounting the pairing route against the remote's real store), both sides compare
// the fingerprint, the operator approves in a terminal with the PIN, lists, revokes, and the user unpairs.
// Afterwards neither store holds the code or the user's subject, and both audit trails tell the story.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { hashOperatorPin, loadConfig } from "../../src/config/index.ts";
import { ensureProfileDir } from "../../src/config/paths.ts";
import { readJsonBody } from "../../src/mcp/http-body.ts";
import { loadOrCreateIdentity } from "../../src/sidecar/identity.ts";
import { createPairingEndpoints } from "../../src/sidecar/pairing-claim.ts";
import { createPairingHttpRoute } from "../../src/sidecar/pairing-http.ts";
import { selfSignedCertificate } from "../../src/simulator/certificate.ts";
import { openStore, type Store } from "../../src/store/index.ts";
import { cli } from "../support/run.ts";
import { cliInTerminal } from "../support/terminal.ts";

const SECRET_ENV = "IBKR_AGENT_E2E_SIDECAR_SECRET";
const PIN = "975310";
const USER = "alice-subject-7781";

let home: string;
let server: Server;
let remoteStore: Store;
let remoteEnv: NodeJS.ProcessEnv;
let sidecarEnv: NodeJS.ProcessEnv;
let relayUrl: string;
let remoteFingerprint: string;
let bobCode: string;

function json(text: string): Record<string, unknown> {
  return JSON.parse(text) as Record<string, unknown>;
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "ibkr-e2e-sidecar-"));
  const certificate = await selfSignedCertificate();
  const caFile = join(home, "remote-ca.pem");
  writeFileSync(caFile, certificate.cert);

  const remoteFile = join(home, "remote.yaml");
  writeFileSync(
    remoteFile,
    stringify({
      audit: { secret_env: SECRET_ENV },
      broker: { backend: "relay" },
      safety: { remote_mcp_enabled: true, sidecar_enabled: true },
      operator: { pin_hash: hashOperatorPin(PIN, { ln: 14 }) },
      remote_mcp: {
        enabled: true,
        resource: "https://gateway.example.test/mcp",
        issuer: "https://auth.example.test/",
        jwks_url: "https://auth.example.test/jwks",
        allowed_scopes: ["ibkr:health:read", "ibkr:accounts:read"],
      },
      sidecar: { enabled: true },
    }),
  );
  const secret = "e2e-sidecar-secret-0123456789abcdef012345";
  remoteEnv = {
    IBKR_AGENT_HOME: join(home, "remote-home"),
    IBKR_AGENT_CONFIG: remoteFile,
    [SECRET_ENV]: secret,
  };

  // The remote's pairing endpoint, as `mcp serve` mounts it, over the same store and key the CLI uses.
  const loaded = loadConfig({ file: remoteFile, env: remoteEnv });
  ensureProfileDir(loaded.paths, loaded.config.broker.backend);
  remoteStore = openStore({ path: loaded.paths.storePath, secrets: loaded.secrets.storeSecrets() });
  const identity = loadOrCreateIdentity(loaded.paths);
  remoteFingerprint = identity.fingerprint;
  const route = createPairingHttpRoute({
    endpoints: createPairingEndpoints({ store: remoteStore, config: loaded.config, identity }),
    readBody: readJsonBody,
  });
  server = createServer({ cert: certificate.cert, key: certificate.key }, (req, res) => {
    void route(req, res).then((handled) => {
      if (!handled) res.writeHead(404).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  relayUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}/relay`;

  const sidecarFile = join(home, "sidecar.yaml");
  writeFileSync(
    sidecarFile,
    stringify({
      audit: { secret_env: SECRET_ENV },
      safety: { sidecar_enabled: true },
      sidecar: { enabled: true, remote_url: relayUrl, remote_ca_file: caFile },
    }),
  );
  sidecarEnv = {
    IBKR_AGENT_HOME: join(home, "sidecar-home"),
    IBKR_AGENT_CONFIG: sidecarFile,
    [SECRET_ENV]: secret,
  };
}, 60_000);

afterAll(async () => {
  await new Promise<void>((done) => server.close(() => done()));
  remoteStore.close();
  rmSync(home, { recursive: true, force: true });
});

describe("pairing a sidecar with a remote gateway", () => {
  let code: string;
  let pairingId: string;
  let sidecarFingerprint: string;

  it("issues a one-time code for a user on the remote", async () => {
    const created = await cli(["sidecar", "pairing", "create", "--user", USER, "--json"], remoteEnv);
    expect(created.code, created.stderr).toBe(0);
    const answer = json(created.stdout);
    code = answer.code as string;
    pairingId = (answer.pairing as { pairing_id: string }).pairing_id;
    expect(code).toMatch(/^[A-Z2-7]{4}(?:-[A-Z2-7]{4}){3}$/);
    expect(answer.remote_fingerprint).toBe(remoteFingerprint);
    expect(answer.pairing).toMatchObject({ status: "pending", attempts: 0 });

    const human = await cli(["sidecar", "pairing", "create", "--user", "bob"], remoteEnv);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^Pairing code for user bob: [A-Z2-7]{4}(?:-[A-Z2-7]{4}){3}$/m);
    expect(human.stdout).toContain(`This gateway's fingerprint: ${remoteFingerprint}`);
    expect(human.stdout).toContain("--remote https://gateway.example.test/relay");
    bobCode = /^Pairing code for user bob: (\S+)$/m.exec(human.stdout)?.[1] ?? "";
  }, 60_000);

  it("refuses pairing commands outside a relay gateway, and pairing on one", async () => {
    const wrongSide = await cli(["sidecar", "pairing", "list", "--json"], sidecarEnv);
    expect(wrongSide.code).toBe(7);
    expect(json(wrongSide.stdout)).toMatchObject({ error: { code: "CONFIG_SIDECAR_FORBIDDEN" } });
    const pairOnRemote = await cli(["sidecar", "pair", "AAAA-BBBB-CCCC-DDDD", "--json"], remoteEnv);
    expect(pairOnRemote.code).toBe(7);
  }, 60_000);

  it("refuses a wrong code over HTTPS and counts it", async () => {
    const wrong = `${code.slice(0, -1)}${code.endsWith("A") ? "B" : "A"}`;
    const refused = await cli(["sidecar", "pair", wrong, "--json"], sidecarEnv);
    expect(refused.code).toBe(4);
    expect(json(refused.stdout)).toMatchObject({ error: { code: "SIDECAR_PAIRING_CODE_INVALID" } });
  }, 60_000);

  it("keeps nothing when the remote's key is not the one the user was told", async () => {
    const told = "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH";
    const refused = await cli(
      ["sidecar", "pair", bobCode, "--remote-fingerprint", told, "--json"],
      sidecarEnv,
    );
    expect(refused.code).toBe(2);
    expect(json(refused.stdout)).toMatchObject({ error: { code: "SIDECAR_FINGERPRINT_MISMATCH" } });
    const status = json((await cli(["sidecar", "status", "--json"], sidecarEnv)).stdout);
    expect(status.pairing).toBeNull();
  }, 60_000);

  it("claims the code from the sidecar and prints both fingerprints to compare", async () => {
    const paired = await cli(
      ["sidecar", "pair", code, "--remote-fingerprint", remoteFingerprint],
      sidecarEnv,
    );
    expect(paired.code, paired.stderr).toBe(0);
    expect(paired.stdout).toContain(`Claimed pairing ${pairingId} at ${relayUrl}.`);
    expect(paired.stdout).toContain(`Remote gateway's fingerprint: ${remoteFingerprint}`);
    const match = /This sidecar's fingerprint: +([A-Z2-7-]{39})/.exec(paired.stdout);
    sidecarFingerprint = match?.[1] ?? "";
    expect(sidecarFingerprint).toMatch(/^[A-Z2-7]{4}(?:-[A-Z2-7]{4}){7}$/);
    expect(paired.stdout).toContain(
      `ibkr-agent sidecar pairing approve ${pairingId} --fingerprint ${sidecarFingerprint}`,
    );

    const again = await cli(["sidecar", "pair", code, "--json"], sidecarEnv);
    expect(json(again.stdout)).toMatchObject({ error: { code: "SIDECAR_PAIRING_CODE_INVALID" } });

    const status = json((await cli(["sidecar", "status", "--json"], sidecarEnv)).stdout);
    expect(status).toMatchObject({
      role: "sidecar",
      identity: { fingerprint: sidecarFingerprint },
      pairing: { pairing_id: pairingId, status: "claimed", remote_fingerprint: remoteFingerprint },
      relay: null,
    });
  }, 60_000);

  it("shows the claim on the remote with the same fingerprint", async () => {
    const listed = json(
      (await cli(["sidecar", "pairing", "list", "--status", "claimed", "--user", USER, "--json"], remoteEnv))
        .stdout,
    );
    const pairings = listed.pairings as { pairing_id: string; fingerprint: string; attempts: number }[];
    expect(pairings.map((p) => [p.pairing_id, p.fingerprint, p.attempts])).toEqual([
      [pairingId, sidecarFingerprint, 1],
    ]);
    const table = await cli(["sidecar", "pairing", "list"], remoteEnv);
    expect(table.stdout).toMatch(/^PAIRING +STATUS +USER +SIDECAR FINGERPRINT +TIERS +UNTIL$/m);
    expect(table.stdout).toContain(sidecarFingerprint);
    expect(table.stdout).toContain("awaiting approval");
  }, 60_000);

  it("approves only at a terminal with the PIN and the right fingerprint", async () => {
    const approve = ["sidecar", "pairing", "approve", pairingId, "--fingerprint"];
    const piped = await cli([...approve, sidecarFingerprint, "--json"], remoteEnv);
    expect(piped.code).toBe(4);
    expect(json(piped.stdout)).toMatchObject({ error: { code: "APPROVAL_HUMAN_REQUIRED" } });

    const other = "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH";
    const mismatch = await cliInTerminal([...approve, other], remoteEnv, { pin: PIN });
    expect(mismatch.code).toBe(2);
    expect(mismatch.output).toContain("Error SIDECAR_FINGERPRINT_MISMATCH");

    const typed = sidecarFingerprint.toLowerCase().replaceAll("-", " ");
    const approved = await cliInTerminal([...approve, typed], remoteEnv, { pin: PIN });
    expect(approved.code, approved.output).toBe(0);
    expect(approved.output).toContain(`Approved ${pairingId}:`);
    expect(approved.output).not.toContain(PIN);

    const listed = json((await cli(["sidecar", "pairing", "list", "--json"], remoteEnv)).stdout);
    const mine = (listed.pairings as { pairing_id: string; status: string; expires_at?: string }[]).find(
      (p) => p.pairing_id === pairingId,
    );
    expect(mine?.status).toBe("active");
    expect(mine?.expires_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const status = json((await cli(["sidecar", "status", "--json"], remoteEnv)).stdout);
    expect(status).toMatchObject({ role: "remote", identity: { fingerprint: remoteFingerprint } });
    expect((status.pairings as { pairing_id: string }[]).map((p) => p.pairing_id)).toContain(pairingId);
  }, 90_000);

  it("revokes on the remote, and the sidecar's unpair reaches the remote", async () => {
    const revoked = await cli(
      ["sidecar", "pairing", "revoke", pairingId, "--reason", "e2e: laptop replaced", "--json"],
      remoteEnv,
    );
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(json(revoked.stdout)).toMatchObject({ changed: true, pairing: { status: "revoked" } });

    const unpaired = await cli(["sidecar", "unpair", "--reason", "e2e: moving on", "--json"], sidecarEnv);
    expect(unpaired.code, unpaired.stderr).toBe(0);
    expect(json(unpaired.stdout)).toMatchObject({ remote: "notified", pairing: { status: "revoked" } });
    const status = json((await cli(["sidecar", "status", "--json"], sidecarEnv)).stdout);
    expect(status.pairing).toBeNull();
    const none = await cli(["sidecar", "unpair", "--reason", "again", "--json"], sidecarEnv);
    expect(json(none.stdout)).toMatchObject({ error: { code: "SIDECAR_PAIRING_REQUIRED" } });
  }, 60_000);

  it("left an audit trail on both sides, and no code or subject in either store", async () => {
    const remoteTypes = [...remoteStore.exportEvents()].map((e) => [e.event_type, e.decision]);
    expect(remoteTypes).toEqual([
      ["relay_pairing_created", "allow"],
      ["relay_pairing_created", "allow"],
      ["relay_pairing_claimed", "refuse"],
      ["relay_pairing_claimed", "allow"],
      ["relay_pairing_claimed", "allow"],
      ["relay_pairing_claimed", "refuse"],
      ["auth_denied", "deny"],
      ["relay_paired", "refuse"],
      ["relay_paired", "allow"],
      ["relay_pairing_revoked", "allow"],
    ]);
    const sidecarLoaded = loadConfig({ env: sidecarEnv });
    const sidecarStore = openStore({
      path: sidecarLoaded.paths.storePath,
      secrets: sidecarLoaded.secrets.storeSecrets(),
      readonly: true,
    });
    try {
      expect(
        [...sidecarStore.exportEvents()].map((e) => [e.event_type, e.decision, e.metadata.check]),
      ).toEqual([
        ["relay_pairing_claimed", "refuse", "remote_refused"],
        ["relay_pairing_claimed", "refuse", "fingerprint_mismatch"],
        ["relay_pairing_claimed", "allow", undefined],
        ["relay_pairing_claimed", "refuse", "remote_refused"],
        ["relay_pairing_revoked", "allow", undefined],
      ]);
    } finally {
      sidecarStore.close();
    }
    const bytes = [remoteEnv, sidecarEnv]
      .flatMap((env) => {
        const paths = loadConfig({ env }).paths;
        return [paths.storePath, `${paths.storePath}-wal`];
      })
      .map((file) => {
        try {
          return readFileSync(file).toString("latin1");
        } catch {
          return "";
        }
      })
      .join("");
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes).not.toContain(code.slice(5));
    expect(bytes).not.toContain(code.replaceAll("-", "").slice(4));
    expect(bytes).not.toContain(USER);
    expect(bytes).not.toContain("PRIVATE KEY");
  }, 60_000);
});
