// Every refusal code of the order tools, through both local front doors as real processes: the MCP SDK's
// client over stdio spawning `ibkr-agent mcp serve`, and `ibkr-agent <command> --json` spawned per call.
// The table (test/e2e/support/order-refusals.ts) is the same for both; each group of rows gets a profile of
// its own per door (a simulator served over HTTPS, a state home, a config variant), and up to four profiles
// run at once. Each row proves the exact code, a user action, how the door reports it (an isError result
// with structuredContent.error; the exit code of the code's catalogue group), and that nothing reached the
// broker's order endpoint unless the row's broker call is the point; text a row marks hidden (a garbled
// broker body) reaches neither the answer, nor the door's diagnostics, nor the store. The last tests hold
// the declared codes (read from the contracts) against what the rows reached and the explicit exclusions.
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CATALOGUE, type ErrorCode } from "../../generated/errors.gen.ts";
import { TOOLS } from "../../generated/tools/registry.gen.ts";
import {
  ACCOUNT_IDS,
  declaredOrderCodes,
  EXCLUDED,
  GROUPS,
  ORDER_WRITES,
  type OrderWrite,
  type RefusalGroup,
} from "./support/order-refusals.ts";
import { cliDoor, type Door, type DoorName, mcpDoor } from "./support/refusal-doors.ts";
import { openProfile, PIN, type Profile } from "./support/refusal-profile.ts";

const DOORS: readonly DoorName[] = ["mcp", "cli"];
/** Codes each door answered exactly as its row expected. */
const reached: Record<DoorName, Set<string>> = { mcp: new Set(), cli: new Set() };

/** At most this many profiles at once: each is a simulator plus an MCP server or a stream of CLI processes. */
const PROFILES_AT_ONCE = 4;
let running = 0;
const waiting: (() => void)[] = [];
async function inTurn<T>(work: () => Promise<T>): Promise<T> {
  if (running >= PROFILES_AT_ONCE) await new Promise<void>((resolve) => waiting.push(resolve));
  running += 1;
  try {
    return await work();
  } finally {
    running -= 1;
    waiting.shift()?.();
  }
}

function expectRefusal(door: Door, code: ErrorCode, answer: Awaited<ReturnType<Door["call"]>>): void {
  const error = answer.error ?? {};
  expect(error.code, answer.raw).toBe(code);
  if (door.name === "mcp") expect(answer.isError, answer.raw).toBe(true);
  else expect(answer.exitCode, answer.raw).toBe(ERROR_CATALOGUE[code].exit);
  expect(error.user_action, code).toMatch(/\S/);
  // A refusal is audited and names its event; only the audit store's own failure cannot.
  if (code === "AUDIT_WRITE_FAILED") expect(error.audit_event_id, code).toBeNull();
  else expect(error.audit_event_id, code).toMatch(/^[0-9a-f-]{36}$/);
}

async function orderWrites(profile: Profile): Promise<Record<OrderWrite, number>> {
  const counts = await Promise.all(ORDER_WRITES.map((op) => profile.brokerCount(op)));
  return Object.fromEntries(ORDER_WRITES.map((op, i) => [op, counts[i] as number])) as Record<
    OrderWrite,
    number
  >;
}

async function runGroup(group: RefusalGroup, doorName: DoorName): Promise<void> {
  const profile = await openProfile(group.profile);
  /** What the group's rows say must never come out (see RefusalRow.hidden). */
  const hidden = new Set<string>();
  try {
    const ids = (await group.setup?.(profile)) ?? {};
    const door = doorName === "mcp" ? await mcpDoor(profile) : cliDoor(profile);
    try {
      const answered: string[] = [];
      for (const row of group.rows) {
        for (const text of row.hidden ?? []) hidden.add(text);
        expect(TOOLS[row.tool].errors, row.tool).toContain(row.code);
        const writesBefore = await orderWrites(profile);
        const undo = await row.before?.(profile, ids);
        let answer: Awaited<ReturnType<Door["call"]>>;
        try {
          answer = await door.call(row.tool, row.args(ids));
        } finally {
          await undo?.();
        }
        expectRefusal(door, row.code, answer);
        for (const text of row.hidden ?? [])
          expect(answer.raw, `${row.code}: leaks ${text}`).not.toContain(text);
        const sent = Object.fromEntries(
          ORDER_WRITES.map((op) => [op, writesBefore[op] + (row.sent?.[op] ?? 0)]),
        );
        expect(await orderWrites(profile), `${row.code}: order writes at the broker`).toEqual(sent);
        answered.push(String(answer.error?.code));
        reached[doorName].add(row.code);
      }
      expect(answered).toEqual(group.rows.map((row) => row.code));
    } finally {
      await door.close();
    }
    // The door's diagnostics name no account and no PIN.
    for (const secret of [...ACCOUNT_IDS, PIN, ...hidden]) expect(door.diagnostics()).not.toContain(secret);
    // The refusals left an intact audit chain and no raw account id anywhere in the store's files.
    expect(profile.home.store.verify().chain_valid).toBe(true);
    for (const file of [profile.storePath, `${profile.storePath}-wal`]) {
      if (!existsSync(file)) continue;
      const bytes = readFileSync(file).toString("latin1");
      for (const text of [...ACCOUNT_IDS, ...hidden])
        expect(bytes.includes(text), `${file}: ${text}`).toBe(false);
    }
  } finally {
    await profile.close();
  }
}

describe.concurrent("every refusal of the order tools, through each front door", () => {
  for (const group of GROUPS) {
    for (const door of DOORS) {
      it(`${door}: ${group.name}`, () => inTurn(() => runGroup(group, door)), 300_000);
    }
  }
});

describe("the refusal table covers every code the order tools declare", () => {
  const declared = declaredOrderCodes();
  const rows = GROUPS.flatMap((group) => group.rows);

  it("excludes only declared codes, none of them also reached by a row, each with a reason", () => {
    for (const [code, reason] of Object.entries(EXCLUDED)) {
      expect(declared.has(code), code).toBe(true);
      expect(reason.length, code).toBeGreaterThan(20);
      expect(
        rows.filter((row) => row.code === code),
        code,
      ).toEqual([]);
    }
  });

  for (const door of DOORS) {
    it(`${door}: declared = reached by a row + excluded`, () => {
      const accounted = new Set([...reached[door], ...Object.keys(EXCLUDED)]);
      expect([...declared.keys()].filter((code) => !accounted.has(code)).sort()).toEqual([]);
      // Every row reached its code (a failed row fails its group above, and shows here too).
      expect([...reached[door]].sort()).toEqual([...new Set(rows.map((row) => row.code))].sort());
    });
  }
});
