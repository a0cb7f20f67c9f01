// Secrets are read from environment variables only. A config file is copied, committed and shared far more
// than an environment, so a secret written into it is refused, under its key path, before the schema runs:
// a key whose name says it holds a secret (anything but `*_env` names), or a value that looks like a
// credential wherever it sits. The value is never repeated in the problem.
import { type ConfigProblem, formatPath, type PathSegment, problem } from "./problems.ts";
import { schemaAt } from "./schema-errors.ts";

const SENSITIVE_WORDS = new Set([
  "secret",
  "secrets",
  "password",
  "passwd",
  "passphrase",
  "token",
  "cookie",
  "cookies",
  "credential",
  "credentials",
  "pin",
  "apikey",
  "authorization",
]);
const SENSITIVE_PAIRS = ["api_key", "private_key", "access_key", "client_secret", "signing_key"];

/** Keys whose names sound sensitive but that hold only `*_env` names; they are checked inside as usual. */
export const SECRET_CONTAINERS: ReadonlySet<string> = new Set(["audit.previous_secrets"]);
/** Keys that hold a one-way hash of a secret, allowed in the file (and still redacted when shown). */
export const HASHED_SECRETS: ReadonlySet<string> = new Set(["operator.pin_hash"]);

/** A key path with list positions generalised, as the two sets above spell them. */
export function genericPath(segments: readonly PathSegment[]): string {
  return formatPath(segments).replace(/\[[0-9]+\]/g, "[]");
}

const CREDENTIAL_VALUES = [
  /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/,
  /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/i,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /\b[0-9a-f]{40,}\b/i,
  /[A-Za-z0-9+/]{48,}={0,2}/,
];

function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== "");
}

export function isSensitiveKey(key: string): boolean {
  const parts = words(key);
  if (parts.at(-1) === "env") return false;
  const joined = parts.join("_");
  return (
    parts.some((part) => SENSITIVE_WORDS.has(part)) || SENSITIVE_PAIRS.some((pair) => joined.includes(pair))
  );
}

function envKeyFor(parent: readonly PathSegment[], key: string): string | undefined {
  const siblings = Object.keys(schemaAt(parent)?.properties ?? {});
  return siblings.includes(`${key}_env`) ? formatPath([...parent, `${key}_env`]) : undefined;
}

function present(value: unknown): boolean {
  return value !== null && value !== undefined && value !== "";
}

/** Every literal secret in the parsed file, by key path. */
export function literalSecretProblems(data: unknown): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const visit = (node: unknown, segments: PathSegment[]): void => {
    if (Array.isArray(node)) {
      node.forEach((item, index) => {
        visit(item, [...segments, index]);
      });
      return;
    }
    if (node !== null && typeof node === "object") {
      for (const [key, value] of Object.entries(node)) {
        const path = [...segments, key];
        const generic = genericPath(path);
        if (HASHED_SECRETS.has(generic)) continue;
        if (isSensitiveKey(key) && !SECRET_CONTAINERS.has(generic) && present(value)) {
          const target = envKeyFor(segments, key);
          out.push(
            problem(
              formatPath(path),
              `holds a secret; secrets are read only from environment variables: put it in one and name the variable in ${target ? `\`${target}\`` : "the matching `*_env` key"}`,
            ),
          );
          continue;
        }
        visit(value, path);
      }
      return;
    }
    if (typeof node === "string" && CREDENTIAL_VALUES.some((pattern) => pattern.test(node))) {
      out.push(
        problem(
          formatPath(segments),
          "looks like a credential; secrets are read only from environment variables named by `*_env` keys",
        ),
      );
    }
  };
  visit(data, []);
  return out;
}
