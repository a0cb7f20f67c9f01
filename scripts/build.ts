// `npm run build` (run by prepack): compiles src/ and generated/ to JavaScript in dist/ (Node does not strip
// types under node_modules) with declarations for the SDK, then bundles the CLI into dist/cli/. The bundle is
// what `ibkr-agent` runs: one entry plus chunks that are loaded only by the commands that need them, so a
// command resolves a handful of files instead of a few thousand modules (about half the start-up time).
import { execFileSync } from "node:child_process";
import { chmodSync, rmSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const root = join(import.meta.dirname, "..");
rmSync(join(root, "dist"), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
  cwd: root,
  stdio: "inherit",
});
await build({
  entryPoints: { bin: join(root, "dist/src/cli/bin.js") },
  outdir: join(root, "dist/cli"),
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node24",
  // Dependencies written as CommonJS call require(); an ES module bundle has to provide it.
  banner: {
    js: 'import { createRequire as __ibkrCreateRequire } from "node:module"; const require = __ibkrCreateRequire(import.meta.url);',
  },
  chunkNames: "chunks/[name]-[hash]",
  logLevel: "warning",
  legalComments: "none",
});
chmodSync(join(root, "dist/cli/bin.js"), 0o755);
process.stdout.write("build: dist/ written (SDK in dist/src, CLI bundle in dist/cli)\n");
