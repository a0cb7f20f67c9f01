// The package version, read once from package.json next to the sources or the built dist/ tree.
import { readFileSync } from "node:fs";

function readVersion(): string {
  for (const candidate of ["../../package.json", "../../../package.json"]) {
    try {
      const url = new URL(candidate, import.meta.url);
      const pkg = JSON.parse(readFileSync(url, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "ibkr-agent-gateway" && pkg.version) return pkg.version;
    } catch {
      // try the next location
    }
  }
  return "0.0.0";
}

export const PACKAGE_VERSION = readVersion();
