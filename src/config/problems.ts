// A configuration problem is a key path and a sentence, never a value: the file may hold a secret by mistake,
// and problems travel to terminals, JSON output and the audit log. Every check reports problems instead of
// throwing, so that one run of `config validate` lists all of them.
import type { ErrorCode } from "../../generated/errors.gen.ts";
import { GatewayError } from "../core/gateway-error.ts";

export interface ConfigProblem {
  /** Key path such as `live_trading.policies[0].price_collar_bps`; "" for the file as a whole. */
  readonly path: string;
  readonly problem: string;
  /** The catalogue code that best names the problem (CONFIG_INVALID unless a more specific one exists). */
  readonly code: ErrorCode;
}

export type PathSegment = string | number;

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function formatPath(segments: readonly PathSegment[]): string {
  let out = "";
  for (const segment of segments) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === "" ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Splits a JSON pointer, turning a segment into an index where the data at that place is an array. */
export function pointerSegments(pointer: string, data: unknown): PathSegment[] {
  if (pointer === "") return [];
  const segments: PathSegment[] = [];
  let node: unknown = data;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(node) && /^(0|[1-9][0-9]*)$/.test(key)) {
      const index = Number(key);
      segments.push(index);
      node = node[index];
    } else {
      segments.push(key);
      node = node !== null && typeof node === "object" ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return segments;
}

export function problem(path: string, text: string, code: ErrorCode = "CONFIG_INVALID"): ConfigProblem {
  return { path, problem: text, code };
}

/** True when `path` is `other` or lies inside it (`a.b` contains `a.b.c` and `a.b[0]`). */
function within(path: string, other: string): boolean {
  return path === other || path.startsWith(`${other}.`) || path.startsWith(`${other}[`);
}

/**
 * Adds the problems of a later stage, minus those on a key path an earlier stage already reported, inside
 * it or around it: a later stage saw defaults where the earlier one found the fault, so it would only
 * repeat the same fault in other words.
 */
export function mergeProblems(
  earlier: readonly ConfigProblem[],
  later: readonly ConfigProblem[],
): ConfigProblem[] {
  const out = [...earlier];
  const covered = earlier.map((p) => p.path).filter((path) => path !== "");
  for (const item of later) {
    if (covered.some((path) => within(item.path, path) || (item.path !== "" && within(path, item.path))))
      continue;
    if (out.some((p) => p.path === item.path && p.problem === item.problem)) continue;
    out.push(item);
  }
  return out;
}

/**
 * The one error for a configuration that cannot be used. CONFIG_SECRET_MISSING when every problem is a
 * missing or short secret (the file itself is fine), CONFIG_INVALID otherwise; details.problems lists all.
 */
export function configError(problems: readonly ConfigProblem[], source: string): GatewayError {
  const onlySecrets = problems.length > 0 && problems.every((p) => p.code === "CONFIG_SECRET_MISSING");
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  const first = problems[0];
  const summary =
    first === undefined ? "" : ` First: ${first.path === "" ? "" : `${first.path}: `}${first.problem}`;
  return new GatewayError(onlySecrets ? "CONFIG_SECRET_MISSING" : "CONFIG_INVALID", {
    message: `The configuration (${source}) has ${count}.${summary}`,
    details: { source, problems: problems.map((p) => ({ path: p.path, problem: p.problem, code: p.code })) },
  });
}
