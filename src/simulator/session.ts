// The two-tier session of a Client Portal Gateway: the SSO (web) session a person starts by logging in in a
// browser, and the brokerage (/iserver) session on top of it. The SSO session dies after ~6 minutes without
// requests and after 24 hours in any case; the brokerage session is reset every night at 01:00 New York
// time and is lost to a competing login elsewhere (TWS, the mobile app). Login itself is a control action:
// nothing the API offers can log in, exactly as with the real gateway.
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

export interface SimSession {
  /** Applies expiries and the nightly reset up to `now`; returns true when the brokerage epoch changed. */
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
}

export function createSimSession(
  now: number,
  options: { loggedIn: boolean; competing?: boolean; brokerage?: boolean; timings?: Partial<SessionTimings> },
): SimSession {
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
    lastActivityAt = at;
    lifetimeEndsAt = at + timings.maxLifetimeMs;
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

  return {
    timings,
    advance(at) {
      if (sso === "logged_out") return false;
      const before = epoch;
      if (at >= lifetimeEndsAt) logout("lifetime");
      else if (at - lastActivityAt >= timings.idleTimeoutMs) logout("idle");
      else {
        const reset = lastNightlyResetAt(at);
        if (reset > lastResetSeen) {
          lastResetSeen = reset;
          if (authenticated || competing) {
            authenticated = false;
            competing = false;
            epoch += 1;
          }
        }
      }
      return epoch !== before;
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
    },
  };
}
