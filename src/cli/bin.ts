#!/usr/bin/env node
// Entry of the `ibkr-agent` command. It checks the Node version before loading anything else, so a user on an
// older Node gets one clear instruction instead of a syntax error from deep inside a dependency.
const REQUIRED_MAJOR = 24;
const major = Number(process.versions.node.split(".")[0]);
if (major < REQUIRED_MAJOR) {
  process.stderr.write(
    `ibkr-agent needs Node.js ${REQUIRED_MAJOR} or newer; this is Node.js ${process.versions.node}.\n` +
      `Install Node.js ${REQUIRED_MAJOR} LTS (https://nodejs.org, or \`nvm install ${REQUIRED_MAJOR}\`), then run ibkr-agent again.\n`,
  );
  process.exit(1);
}
// `ibkr-agent ... | head` closes the pipe early: that is the reader's choice, not an error to report.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});
const args = process.argv.slice(2);
if (args.length === 1 && args[0] === "--version") {
  // Answered without loading the argument parser: scripts call this often and expect it instantly.
  const { PACKAGE_VERSION } = await import("./version.ts");
  process.stdout.write(`${PACKAGE_VERSION}\n`);
  process.exit(0);
}
// Cache compiled modules on disk (Node's compile cache) so repeated CLI runs skip most parsing work.
const { enableCompileCache } = await import("node:module");
enableCompileCache?.();
const { main } = await import("./main.ts");
process.exitCode = await main(args);
