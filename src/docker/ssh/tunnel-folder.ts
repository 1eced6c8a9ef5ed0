// The private temporary folder of an ssh tunnel (ssh-tunnel.ts): where it is made, the owner
// file that names the process that made it, and the removal of folders whose process was
// killed (SIGKILL leaves no time to remove them). Only folders of this user, named as ours
// and naming an owner that has ended on this machine are removed; a folder without an owner
// file (a tunnel being opened this instant, or one of an older version of this tool) only when
// it is older than a minute and nobody listens on its socket any more.
import { connect } from "node:net";
import { lstatSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ProcessOwner, ownerState, thisProcess } from "../../lib/process-identity.ts";
import { readRegularFile } from "../../lib/regular-file.ts";

export const TUNNEL_FOLDER_PREFIX = "docker-ssh-";
const NAME = /^docker-ssh-[A-Za-z0-9]{6}$/;
const OWNER_FILE = "owner";
const SOCKET_FILE = "engine.sock";
/** A folder without an owner file younger than this may be a tunnel opening now. */
const UNOWNED_GRACE_MS = 60_000;
/** How long a socket may take to accept or refuse a connection before it counts as alive. */
const CONNECT_WAIT_MS = 500;

/**
 * A unix socket path holds about 100 bytes (104 on macOS), and ssh binds its control
 * socket at "mux" plus 17 characters first: a long temp folder (macOS) falls back to /tmp.
 */
export function socketFolderRoot(root: string): string {
  return join(root, "docker-ssh-XXXXXX", "mux").length + 17 <= 100 ? root : "/tmp";
}

export function writeTunnelOwner(folder: string): void {
  writeFileSync(join(folder, OWNER_FILE), JSON.stringify(thisProcess()), { mode: 0o600 });
}

/** Removes the tunnel folders killed processes left in the temporary folder (or /tmp); answers their paths. */
export async function removeStaleTunnelFolders(root = tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  for (const folder of candidates([...new Set([root, socketFolderRoot(root)])])) {
    if (!(await isStale(folder))) continue;
    try {
      rmSync(folder, { recursive: true, force: true });
      removed.push(folder);
    } catch {
      // Another run removed it first, or it cannot be: the next run tries again.
    }
  }
  return removed;
}

/** Our folders: named as ours, real folders (no link), this user's. */
function candidates(roots: string[]): string[] {
  const uid = process.getuid?.();
  const found: string[] = [];
  for (const root of roots) {
    let names: string[];
    try {
      names = readdirSync(root);
    } catch {
      continue;
    }
    for (const name of names.filter((n) => NAME.test(n))) {
      const folder = join(root, name);
      try {
        const stats = lstatSync(folder);
        if (stats.isDirectory() && (uid === undefined || stats.uid === uid)) found.push(folder);
      } catch {
        // gone meanwhile
      }
    }
  }
  return found;
}

async function isStale(folder: string): Promise<boolean> {
  const owner = readOwner(folder);
  if (owner) return ownerState(owner) === "gone";
  let age: number;
  try {
    age = Date.now() - lstatSync(folder).mtimeMs;
  } catch {
    return false;
  }
  return age > UNOWNED_GRACE_MS && !(await listening(join(folder, SOCKET_FILE)));
}

function readOwner(folder: string): ProcessOwner | undefined {
  try {
    const owner = JSON.parse(new TextDecoder().decode(readRegularFile(join(folder, OWNER_FILE), 4096)));
    return typeof owner?.pid === "number" && typeof owner?.machine === "string" ? owner : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process accepts connections on the socket; a missing socket or a refusal says no. */
function listening(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const connection = connect(socket);
    const done = (answer: boolean) => {
      clearTimeout(timer);
      connection.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(true), CONNECT_WAIT_MS);
    connection.once("connect", () => done(true));
    connection.once("error", () => done(false));
  });
}
