// An `ssh://[user@]host[:port][/socket]` Docker endpoint, and the `ssh` command line that
// reaches its engine the way the docker CLI does: the system's ssh runs
// `docker system dial-stdio` on the far side and the Engine API travels over its stdio.
import { quoted } from "../../lib/safe-text.ts";
import { clip } from "../../lib/text.ts";

export interface SshTarget {
  /** Login name; absent: ssh's own choice (~/.ssh/config, then the local user). */
  user?: string;
  /** Host name, address or ~/.ssh/config alias. */
  host: string;
  port?: number;
  /** Engine socket on the far side; absent: that side's default (its DOCKER_HOST or /var/run/docker.sock). */
  remoteSocket?: string;
  /** Share one ssh connection between all HTTP connections (DOCKER_SSH_NO_MUX=1 turns it off, as for the docker CLI). */
  multiplex: boolean;
}

/**
 * Parses an ssh:// Docker host; throws an Error whose message says what is wrong. The user and
 * host must be names ssh takes as such: older OpenSSH hands the host to a user's ProxyCommand
 * through %h, where `ssh://h$(cmd)ost` would run `cmd`.
 */
export function parseSshUrl(value: string, options: { multiplex?: boolean } = {}): SshTarget {
  const shown = shownAddress(value);
  const port = /^ssh:\/\/(?:[^@/]*@)?(?:\[[^\]/]*\]|[^:/]*):(\d+)(?:\/|$)/i.exec(value)?.[1];
  if (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535))
    throw new Error(`${shown}: port ${clip(port, 12)} is not between 1 and 65535`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${shown} is not a valid ssh:// address`);
  }
  if (url.protocol !== "ssh:") throw new Error(`${shown} is not an ssh:// address`);
  if (url.password) throw new Error(`${shown} holds a password; use a key or an ssh agent instead`);
  if (url.search || url.hash) throw new Error(`${shown} may not have a query or fragment`);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!host) throw new Error(`${shown} names no host; use ssh://[user@]host[:port]`);
  const user = url.username ? safeDecode(url.username) : undefined;
  const problem = (user === undefined ? undefined : userProblem(user)) ?? hostProblem(url.hostname);
  if (problem) throw new Error(`${shown}: ${problem}`);
  const path = safeDecode(url.pathname).replace(/\/+$/, "");
  if (/[\x00-\x1f\x7f]/.test(path)) throw new Error(`${shown} has an invalid socket path`);
  if (new TextEncoder().encode(path).length > MAX_SOCKET_PATH_BYTES)
    throw new Error(`${shown}: a socket path is at most ${MAX_SOCKET_PATH_BYTES} bytes`);
  return {
    user,
    host,
    port: port ? Number(port) : undefined,
    remoteSocket: path || undefined,
    multiplex: options.multiplex ?? true,
  };
}

/** What a unix socket's address holds (sun_path, 108 bytes with its terminating zero on Linux). */
const MAX_SOCKET_PATH_BYTES = 107;

/**
 * An address as error messages show it: a password in it hidden (`ssh://me:***@box`), control
 * characters escaped, the length clipped. For any scheme: a DOCKER_HOST may hold one by mistake.
 */
export function shownAddress(value: string, max = 120): string {
  return quoted(value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^@/:]*):[^@/]*@/i, "$1:***@"), max);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a stray % stays as it is, and the checks below refuse it
  }
}

/**
 * A login name: letters, digits, `.`, `_`, `-` and `@` (a domain login, `me@corp.example`), not
 * starting with `-` (ssh would take it for an option), at most 256 characters.
 */
function userProblem(user: string): string | undefined {
  if (/^[A-Za-z0-9._][A-Za-z0-9._@-]{0,255}$/.test(user)) return undefined;
  return `the user name ${quoted(user, 40)} is not a login name (letters, digits, '.', '_', '-', '@')`;
}

/**
 * An IPv4 address, an IPv6 address in brackets (the URL parser checked it), or a host name:
 * labels of letters, digits, `_` (a ~/.ssh/config alias may hold one) and inner `-`, at most 253.
 */
function hostProblem(hostname: string): string | undefined {
  if (hostname.startsWith("[")) return undefined;
  const label = "[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?";
  if (hostname.length <= 253 && new RegExp(`^${label}(\\.${label})*\\.?$`).test(hostname)) return undefined;
  return `the host ${quoted(hostname, 60)} is neither a host name nor an IP address`;
}

/** The address as the user reads it, normalised: ssh://user@host:port/path. */
export function sshDisplay(target: SshTarget): string {
  const host = target.host.includes(":") ? `[${target.host}]` : target.host;
  return `ssh://${target.user ? `${target.user}@` : ""}${host}${target.port ? `:${target.port}` : ""}${target.remoteSocket ?? ""}`;
}

/** The command run on the far side. ssh hands it to the remote shell, hence the quoting. */
export function remoteDialCommand(target: SshTarget): string {
  if (!target.remoteSocket) return "docker system dial-stdio";
  return `docker ${shellQuote(`--host=unix://${target.remoteSocket}`)} system dial-stdio`;
}

/**
 * Arguments after the ssh program. BatchMode: never a password, passphrase or host-key
 * prompt (a clear error instead). ConnectTimeout stays below the client's ping deadline
 * so the user sees ssh's reason, not a timeout. With a control path, the first
 * connection becomes the master and later ones ride on it; ControlPersist=no keeps
 * that master a child of ours that ends with its last session, whatever ~/.ssh/config says.
 */
export function sshArguments(target: SshTarget, controlPath?: string): string[] {
  const args = ["-o", "BatchMode=yes", "-o", "ConnectTimeout=8", "-T"];
  if (controlPath && target.multiplex) {
    // ssh expands %-tokens in ControlPath: a literal % is written %%.
    args.push(
      "-o",
      "ControlMaster=auto",
      "-o",
      `ControlPath=${controlPath.replaceAll("%", "%%")}`,
      "-o",
      "ControlPersist=no",
    );
  }
  if (target.user) args.push("-l", target.user);
  if (target.port) args.push("-p", String(target.port));
  args.push("--", target.host, remoteDialCommand(target));
  return args;
}

/** What the user would type to try the login by hand: `ssh -p 2222 me@box`. */
export function sshLoginHint(target: SshTarget): string {
  return [
    "ssh",
    ...(target.port ? ["-p", String(target.port)] : []),
    `${target.user ? `${target.user}@` : ""}${target.host}`,
  ].join(" ");
}

/** The name ssh files the host key under in known_hosts: host, or [host]:port. */
export function knownHostsName(target: SshTarget): string {
  return target.port && target.port !== 22 ? `[${target.host}]:${target.port}` : target.host;
}

function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
