// The two-tier session of a Client Portal Gateway: the SSO (web) session a person starts by logging in in a
// browser, and the brokerage (/iserver) session on top of it. The SSO session dies after ~6 minutes without
// requests and after 24 hours in any case; the brokerage session is reset every night at 01:00 New York
// time and is lost to a competing login elsewhere (TWS, the mobile app). Login itself is a control action:
// nothing the API offers can log in, exactly as with the real gateway.
//
// A persisted simulator (the default backend, shared by every CLI command and MCP server of a profile)
// keeps its simulated person logged in: commands run minutes or hours apart must not find the session
// idled out. There the idle timeout does not end the session, the person logs in again when the 24-hour cap
// ends, and after the nightly reset they are back at once - in a new brokerage session, so the reset's
// consequences (earlier orders leave the live list and order status) stay as the real gateway has them.
// Every transition is dated at the instant it happens, not when it is noticed, so advancing in one big step
// or in many small ones ends in the same state.
import { lastNightlyResetAt } from "./market-time.ts";

export interface SessionTimings {
  /** SSO session ends after this long without a request (default 6 min). */
  readonly idleTimeoutMs: number;
  /** SSO session ends this long after login whatever happens (default 24 h). */
  readonly maxLifetimeMs: number;
}

export const DEFAULT_SESSION_TIMINGS: SessionTimings = {
  idleTimeoutMs: 6 * 60_000,
  maxLifetimeMs: 24 * 3_600_000,
};

export type SsoState = "logged_out" | "logged_in";

const RESET_GAP_MAX_MS = 25 * 3_600_000;

export interface SessionSnapshot {
  readonly sso: SsoState;
  /** Why the SSO session ended, when it did. */
  readonly endedBy: "never_logged_in" | "logout" | "idle" | "lifetime" | null;
  readonly brokerage: {
    readonly authenticated: boolean;
    readonly competing: boolean;
    readonly connected: boolean;
  };
  /** Counts brokerage sessions; orders, subscriptions and pre-flights belong to one epoch. */
  readonly epoch: number;
  readonly loginAt: number | null;
  readonly lastActivityAt: number;
  /** Ms until the SSO session ends if nothing else happens (the tickle's ssoExpires). */
  readonly ssoExpiresInMs: number;
}

/** Everything a session knows, as plain data (persisted simulators store it). */
export interface SessionData {
  readonly sso: SsoState;
  readonly endedBy: SessionSnapshot["endedBy"];
  readonly authenticated: boolean;
  readonly competing: boolean;
  readonly connected: boolean;
  readonly epoch: number;
  readonly loginAt: number | null;
  readonly lastActivityAt: number;
  /** null: no cap (never logged in). */
  readonly lifetimeEndsAt: number | null;
  readonly lastResetSeen: number;
  /** The scenario cut the lifetime short: its end logs out even when the person stays logged in. */
  readonly lifetimeShortened: boolean;
}

export interface SimSession {
  /** Applies expiries and the nightly reset up to `now`; returns true when anything changed. */
  advance(now: number): boolean;
  /** Records a request (keeps the SSO session alive). */
  touch(now: number): void;
  snapshot(now: number): SessionSnapshot;
  isLoggedIn(): boolean;
  isBrokerageAuthenticated(): boolean;
  /** A person logged in in the browser: fresh SSO and brokerage session. */
  login(now: number): void;
  logout(reason: "logout" | "idle" | "lifetime"): void;
  /** Someone logged in elsewhere with the same user name. */
  compete(): void;
  /** The brokerage session drops (nightly reset, bridge loss) while SSO stays. */
  dropBrokerage(): void;
  /** POST /iserver/auth/ssodh/init: returns whether the brokerage session is now authenticated. */
  initBrokerage(compete: boolean): boolean;
  /** Shortens the remaining SSO lifetime (the expiring-session scenario). */
  expireIn(now: number, ms: number): void;
  readonly timings: SessionTimings;
  exportState(): SessionData;
  importState(data: SessionData): void;
}

export interface SessionOptions {
  readonly loggedIn: boolean;
  readonly competing?: boolean;
  readonly brokerage?: boolean;
  readonly timings?: Partial<SessionTimings>;
  /** The simulated person keeps the session alive (persisted simulators; see the top of this file). */
  readonly keepLoggedIn?: boolean;
}

export function createSimSession(now: number, options: SessionOptions): SimSession {
  const keep = options.keepLoggedIn === true;
  const timings: SessionTimings = { ...DEFAULT_SESSION_TIMINGS, ...options.timings };
  let sso: SsoState = "logged_out";
  let endedBy: SessionSnapshot["endedBy"] = "never_logged_in";
  let authenticated = false;
  let competing = false;
  let connected = false;
  let epoch = 0;
  let loginAt: number | null = null;
  let lastActivityAt = now;
  let lifetimeEndsAt = Number.POSITIVE_INFINITY;
  let lastResetSeen = lastNightlyResetAt(now);
  let lifetimeShortened = false;

  function startBrokerage(): void {
    authenticated = true;
    competing = false;
    connected = true;
    epoch += 1;
  }

  function login(at: number): void {
    sso = "logged_in";
    endedBy = null;
    loginAt = at;
    // A kept person's renewal is dated at the reset, which can be before the last request.
    lastActivityAt = Math.max(lastActivityAt, at);
    lifetimeEndsAt = at + timings.maxLifetimeMs;
    lifetimeShortened = false;
    lastResetSeen = lastNightlyResetAt(at);
    startBrokerage();
  }

  function logout(reason: "logout" | "idle" | "lifetime"): void {
    if (sso === "logged_out") return;
    sso = "logged_out";
    endedBy = reason;
    authenticated = false;
    competing = false;
    connected = false;
    epoch += 1;
  }

  if (options.loggedIn) {
    login(now);
    if (options.brokerage === false) {
      authenticated = false;
      connected = true;
    }
    if (options.competing) {
      authenticated = false;
      competing = true;
    }
  }

  function ssoEndsAt(): number {
    return Math.min(lastActivityAt + timings.idleTimeoutMs, lifetimeEndsAt);
  }

  function exportState(): SessionData {
    return {
      sso,
      endedBy,
      authenticated,
      competing,
      connected,
      epoch,
      loginAt,
      lastActivityAt,
      lifetimeEndsAt: Number.isFinite(lifetimeEndsAt) ? lifetimeEndsAt : null,
      lastResetSeen,
      lifetimeShortened,
    };
  }

  /** The nightly reset: the brokerage session ends (a kept person starts the next one at once). */
  function nightlyReset(reset: number): void {
    lastResetSeen = reset;
    if (keep && authenticated) {
      login(reset);
      return;
    }
    if (authenticated || competing) {
      authenticated = false;
      competing = false;
      epoch += 1;
    }
  }

  function advanceKept(at: number): void {
    // One event per turn, oldest first: the lifetime's end or the next nightly reset. Resets are visited one
    // by one (each starts a brokerage session), so a long silence ends where daily use would have.
    for (;;) {
      if (sso === "logged_out") return;
      // Resets are 23 to 25 hours apart: the latest one 25 hours on is the next one.
      const nextReset = lastNightlyResetAt(lastResetSeen + RESET_GAP_MAX_MS);
      const resetDue = nextReset > lastResetSeen && nextReset <= at;
      if (lifetimeEndsAt <= at && (!resetDue || lifetimeEndsAt <= nextReset)) {
        if (lifetimeShortened) {
          logout("lifetime");
          return;
        }
        login(lifetimeEndsAt);
        continue;
      }
      if (!resetDue) return;
      nightlyReset(nextReset);
    }
  }

  return {
    timings,
    advance(at) {
      if (sso === "logged_out") return false;
      const before = JSON.stringify(exportState());
      if (keep) advanceKept(at);
      else if (at >= lifetimeEndsAt) logout("lifetime");
      else if (at - lastActivityAt >= timings.idleTimeoutMs) logout("idle");
      else {
        const reset = lastNightlyResetAt(at);
        if (reset > lastResetSeen) nightlyReset(reset);
      }
      return JSON.stringify(exportState()) !== before;
    },
    touch(at) {
      if (sso === "logged_in") lastActivityAt = Math.max(lastActivityAt, at);
    },
    snapshot(at) {
      return {
        sso,
        endedBy,
        brokerage: { authenticated, competing, connected },
        epoch,
        loginAt,
        lastActivityAt,
        ssoExpiresInMs: sso === "logged_in" ? Math.max(0, ssoEndsAt() - at) : 0,
      };
    },
    isLoggedIn: () => sso === "logged_in",
    isBrokerageAuthenticated: () => sso === "logged_in" && authenticated,
    login,
    logout,
    compete() {
      if (sso !== "logged_in") return;
      if (authenticated) epoch += 1;
      authenticated = false;
      competing = true;
    },
    dropBrokerage() {
      if (sso !== "logged_in") return;
      if (authenticated) epoch += 1;
      authenticated = false;
    },
    initBrokerage(takeOver) {
      if (sso !== "logged_in") return false;
      if (authenticated) return true;
      // Without compete the other login keeps the session: ssodh/init answers 200 with authenticated:false.
      if (competing && !takeOver) return false;
      startBrokerage();
      return true;
    },
    expireIn(at, ms) {
      lifetimeEndsAt = Math.min(lifetimeEndsAt, at + ms);
      lifetimeShortened = true;
    },
    exportState,
    importState(data) {
      sso = data.sso;
      endedBy = data.endedBy;
      authenticated = data.authenticated;
      competing = data.competing;
      connected = data.connected;
      epoch = data.epoch;
      loginAt = data.loginAt;
      lastActivityAt = data.lastActivityAt;
      lifetimeEndsAt = data.lifetimeEndsAt ?? Number.POSITIVE_INFINITY;
      lastResetSeen = data.lastResetSeen;
      lifetimeShortened = data.lifetimeShortened;
    },
  };
}
