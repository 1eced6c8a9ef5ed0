// An `ssh://[user@]host[:port][/socket]` Docker endpoint, and the `ssh` command line that
// reaches its engine the way the docker CLI does: the system's ssh runs
// `docker system dial-stdio` on the far side and the Engine API travels over its stdio.

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

/** Parses an ssh:// Docker host; throws an Error whose message says what is wrong. */
export function parseSshUrl(value: string, options: { multiplex?: boolean } = {}): SshTarget {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`'${value}' is not a valid ssh:// address`);
  }
  if (url.protocol !== "ssh:") throw new Error(`'${value}' is not an ssh:// address`);
  if (url.password) throw new Error(`'${value}' holds a password; use a key or an ssh agent instead`);
  if (url.search || url.hash) throw new Error(`'${value}' may not have a query or fragment`);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!host) throw new Error(`'${value}' names no host; use ssh://[user@]host[:port]`);
  const user = url.username ? decodeURIComponent(url.username) : undefined;
  if (host.startsWith("-") || (user !== undefined && !/^[^\s\x00-\x1f\x7f@:/-][^\s\x00-\x1f\x7f@:/]*$/.test(user))) {
    throw new Error(`'${value}' has an invalid user or host name`);
  }
  const path = decodeURIComponent(url.pathname);
  if (/[\x00-\x1f\x7f]/.test(path)) throw new Error(`'${value}' has an invalid socket path`);
  return {
    user,
    host,
    port: url.port ? Number(url.port) : undefined,
    remoteSocket: path.replace(/\/+$/, "") || undefined,
    multiplex: options.multiplex ?? true,
  };
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
