// Shared pieces of the config tests: a private temporary state root, files written into it, and an audit
// secret in a test environment.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";

export const SECRET = "0123456789abcdef0123456789abcdef-test-secret";

/** An environment with only what a test gives it: no HOME, config or secret leaks in from the runner. */
export function testEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { AUDIT_SECRET: SECRET, ...extra };
}

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "ibkr-config-"));
  made.push(dir);
  return dir;
}

export function writeConfig(dir: string, text: string, name = "config.yaml"): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The smallest valid file: a config file must name its audit secret. */
export const MINIMAL = "audit:\n  secret_env: AUDIT_SECRET\n";
