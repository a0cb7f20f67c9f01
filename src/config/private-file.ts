// Files only their owner may read: the generated audit secret and the relay identity's private key. Each is
// created once, complete or not at all (written to a temporary file, then hard-linked into place, so two
// processes starting together agree on one file), mode 0600 in a 0700 directory; afterwards it is read only
// when it is still a regular file of this user that nobody else can read or write. One implementation, so
// both kinds of key material get the same checks.
import { randomBytes } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  linkSync,
  lstatSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { GatewayError } from "../core/gateway-error.ts";
import { ensurePrivateDir } from "./paths.ts";

export interface PrivateFileKind {
  /** How messages name the file, e.g. "The audit secret file". */
  readonly title: string;
  /** The config problem path reported with the refusal, e.g. "audit". */
  readonly problemPath: string;
  /** How the problem names the file, e.g. "the generated secret file". */
  readonly problemName: string;
  /** What to do when others may read or write it. */
  readonly widePermissionsAction: (path: string) => string;
  /** What to do when it is not a regular file (a link, a directory). */
  readonly notAFileAction: string;
}

export function privateFileError(
  kind: PrivateFileKind,
  path: string,
  why: string,
  action: string,
): GatewayError {
  return new GatewayError("CONFIG_INVALID", {
    message: `${kind.title} ${path} ${why}.`,
    userAction: action,
    details: {
      problems: [{ path: kind.problemPath, problem: `${kind.problemName} ${why}`, code: "CONFIG_INVALID" }],
    },
  });
}

/** The file's text after the ownership and permission checks; ENOENT passes through as thrown by lstat. */
export function readPrivateFile(path: string, kind: PrivateFileKind): string {
  const stat = lstatSync(path);
  if (!stat.isFile()) throw privateFileError(kind, path, "is not a regular file", kind.notAFileAction);
  if (process.platform !== "win32") {
    if ((stat.mode & 0o077) !== 0) {
      throw privateFileError(
        kind,
        path,
        "can be read or written by other users",
        kind.widePermissionsAction(path),
      );
    }
    if (typeof process.getuid === "function" && stat.uid !== process.getuid()) {
      throw privateFileError(
        kind,
        path,
        "belongs to another user",
        "Run the gateway as the owner of its state directory.",
      );
    }
  }
  return readFileSync(path, "utf8");
}

/**
 * Reads the private file, creating it first with `create()` when it does not exist. The directory is made
 * 0700 when missing. A file another process created at the same moment wins; this one's text is dropped.
 */
export function ensurePrivateFile(path: string, kind: PrivateFileKind, create: () => string): string {
  ensurePrivateDir(dirname(path));
  try {
    return readPrivateFile(path, kind);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const temporary = join(
    dirname(path),
    `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}`,
  );
  const fd = openSync(temporary, "wx", 0o600);
  try {
    writeSync(fd, create());
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    unlinkSync(temporary);
  }
  return readPrivateFile(path, kind);
}
