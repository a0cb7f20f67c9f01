// The published package: built JavaScript only, an explicit exports map, a files allowlist, and a bin that
// works from the tarball layout. Runs the real build and `npm pack --dry-run`.
import { existsSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ROOT, run } from "../support/run.ts";

interface PackEntry {
  files: { path: string }[];
}

let packed: string[] = [];

beforeAll(async () => {
  const build = await run(process.execPath, [join(ROOT, "scripts/build.ts")], { timeoutMs: 180_000 });
  expect(build.code, build.stderr).toBe(0);
  const pack = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { timeoutMs: 120_000 });
  expect(pack.code, pack.stderr).toBe(0);
  packed = (JSON.parse(pack.stdout) as PackEntry[])[0]?.files.map((file) => file.path) ?? [];
}, 240_000);

describe("package", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as Record<string, unknown>;

  it("pins every dependency exactly", () => {
    const deps = { ...(pkg.dependencies as object), ...(pkg.devDependencies as object) } as Record<
      string,
      string
    >;
    const loose = Object.entries(deps).filter(([, version]) => !/^\d+\.\d+\.\d+$/.test(version));
    expect(loose).toEqual([]);
    expect(deps.node).toBe("24.21.0");
  });

  it("has an explicit exports map without wildcards", () => {
    expect(Object.keys(pkg.exports as object)).toEqual([".", "./package.json"]);
    expect(JSON.stringify(pkg.exports)).not.toContain("*");
    expect(pkg.bin).toEqual({ "ibkr-agent": "dist/cli/bin.js" });
  });

  it("ships built JavaScript, contracts and docs, and nothing else", () => {
    expect(packed).toContain("dist/cli/bin.js");
    expect(packed).toContain("dist/src/sdk/index.js");
    expect(packed).toContain("dist/src/sdk/index.d.ts");
    expect(packed).toContain("dist/generated/tools/registry.gen.js");
    expect(packed).toContain("contracts/errors.yaml");
    expect(packed).toContain("README.md");
    const forbidden = packed.filter(
      (path) =>
        /^(test|bench|codegen|scripts|fixtures)\//.test(path) ||
        /\.(ts)$/.test(path.replace(/\.d\.ts$/, "")) ||
        /\.(sqlite|db|pem|key|env)$/.test(path) ||
        path.includes("generated/tests") ||
        path.startsWith(".ibkr-agent"),
    );
    expect(forbidden).toEqual([]);
  });

  it("runs the built bin and imports the built SDK", async () => {
    const version = await run(process.execPath, [join(ROOT, "dist/cli/bin.js"), "--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(pkg.version);
    const sdk = await run(process.execPath, [
      "--input-type=module",
      "-e",
      `const m = await import(${JSON.stringify(join(ROOT, "dist/src/sdk/index.js"))}); console.log(m.TOOL_NAMES.length, typeof m.GatewayError);`,
    ]);
    expect(sdk.stdout.trim()).toBe("46 function");
  });

  it("tells a user on an older Node exactly what to install", async () => {
    // The system Node of these machines is 20; find one on PATH outside node_modules/.bin.
    const oldNode = (process.env.PATH ?? "")
      .split(delimiter)
      .filter((dir) => !dir.includes("node_modules"))
      .map((dir) => join(dir, "node"))
      .find((path) => existsSync(path));
    const probe = oldNode ? await run(oldNode, ["-p", "process.versions.node.split('.')[0]"]) : undefined;
    if (!oldNode || !probe || Number(probe.stdout.trim()) >= 24) {
      // No older Node on this machine: the check cannot be exercised here.
      return;
    }
    const result = await run(oldNode, [join(ROOT, "dist/cli/bin.js"), "--help"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("ibkr-agent needs Node.js 24 or newer");
    expect(result.stderr).toContain("Install Node.js 24 LTS");
  });
});
