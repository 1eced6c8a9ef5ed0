// Why an ssh connection to an engine ended without an answer, read from ssh's exit code
// and stderr (ssh's own messages, the remote shell's, or `docker system dial-stdio`'s),
// as a cause and a fix the user can act on. The bytes come from another machine: only
// sanitised single lines ever reach a message.
import { clip } from "../../lib/text.ts";
import { type SshTarget, knownHostsName, sshLoginHint } from "./ssh-target.ts";

export type SshFailureKind =
  | "ssh-missing"
  | "host-key-changed"
  | "host-key-unknown"
  | "login-refused"
  | "connection-refused"
  | "unknown-host"
  | "network"
  | "docker-missing"
  | "engine-permission"
  | "engine-down"
  | "no-answer"
  | "other";

export interface SshFailure {
  kind: SshFailureKind;
  /** What went wrong, e.g. "ssh login as me refused (Permission denied (publickey))" */
  reason: string;
  /** What to do about it */
  fix: string;
}

export interface SshExit {
  /** null when ssh was ended by a signal or never started */
  exitCode: number | null;
  stderr: string;
  /** set when the ssh program itself could not be started */
  spawnError?: string;
}

export function explainSshFailure(exit: SshExit, target: SshTarget): SshFailure {
  const lines = cleanLines(exit.stderr);
  const stderr: SshStderr = {
    lines,
    text: lines.join("\n"),
    find: (pattern) => lines.find((line) => pattern.test(line)),
  };
  // In this order: ssh's own failures first, then the network's, then the remote end's.
  return (
    sshNotStarted(exit) ??
    hostKeyFailure(stderr, target) ??
    loginFailure(stderr, target) ??
    networkFailure(stderr, target) ??
    remoteDockerFailure(exit, stderr, target) ??
    otherFailure(exit, stderr, target)
  );
}

/** ssh's stderr as clean lines, all of them as one text, and the first line that matches. */
interface SshStderr {
  lines: string[];
  text: string;
  find: (pattern: RegExp) => string | undefined;
}

function sshNotStarted(exit: SshExit): SshFailure | undefined {
  if (exit.spawnError === undefined) return undefined;
  return {
    kind: "ssh-missing",
    reason: `the ssh command could not be started (${exit.spawnError})`,
    fix: "install an OpenSSH client so that `ssh` is on the PATH",
  };
}

function hostKeyFailure({ text }: SshStderr, target: SshTarget): SshFailure | undefined {
  const { host } = target;
  const login = sshLoginHint(target);
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/.test(text)) {
    return {
      kind: "host-key-changed",
      reason: `the host key of ${host} differs from the one in known_hosts (a reinstalled host, or someone in between)`,
      fix: `if the change is expected, remove the old key with \`ssh-keygen -R '${knownHostsName(target)}'\` and accept the new one with \`${login}\``,
    };
  }
  if (/Host key verification failed|host key is known for|No \S+ host key is known/.test(text)) {
    return {
      kind: "host-key-unknown",
      reason: `the host key of ${host} is not known, and batch mode cannot ask to accept it`,
      fix: `connect once with \`${login}\` to check and accept it`,
    };
  }
  return undefined;
}

function loginFailure({ find }: SshStderr, target: SshTarget): SshFailure | undefined {
  const denied = find(/Permission denied \(/);
  if (!denied) return undefined;
  const { host } = target;
  const methods = /Permission denied \(([^)]*)\)/.exec(denied)?.[1] ?? "";
  return {
    kind: "login-refused",
    reason: `ssh login${target.user ? ` as ${target.user}` : ""} to ${host} refused (Permission denied (${methods}))`,
    fix: `offer a key that ${host} accepts (ssh-add, or IdentityFile in ~/.ssh/config) and check that \`${sshLoginHint(target)}\` logs in without a prompt; passwords and key passphrases cannot be asked for`,
  };
}

function networkFailure({ find }: SshStderr, target: SshTarget): SshFailure | undefined {
  const { host } = target;
  if (find(/Connection refused/)) {
    return {
      kind: "connection-refused",
      reason: `${host} refused the ssh connection on port ${target.port ?? 22}`,
      fix: "check the host and port of the endpoint, and that sshd runs there",
    };
  }
  const unresolved = find(/Could not resolve hostname|Name or service not known|nodename nor servname/);
  if (unresolved) {
    return {
      kind: "unknown-host",
      reason: `the host name ${host} cannot be resolved`,
      fix: "check the host name of the endpoint (or its Host entry in ~/.ssh/config)",
    };
  }
  const network = find(/timed out|No route to host|Network is unreachable|Connection reset|Connection closed by/i);
  if (network) {
    return {
      kind: "network",
      reason: `ssh to ${host} failed (${shortLine(network)})`,
      fix: `check that \`${sshLoginHint(target)}\` works from this machine`,
    };
  }
  return undefined;
}

/** Logged in, but `docker system dial-stdio` there did not answer. */
function remoteDockerFailure(exit: SshExit, { text, find }: SshStderr, target: SshTarget): SshFailure | undefined {
  const { host } = target;
  // The remote shell's "docker: command not found" (bash), "docker: not found" (dash), exit 127.
  if (exit.exitCode === 127 || /\bdocker: (command )?not found/.test(text)) {
    return {
      kind: "docker-missing",
      reason: `the docker command was not found on ${host}`,
      fix: `install the docker CLI there, on the PATH of non-interactive ssh sessions (it runs \`docker system dial-stdio\`)`,
    };
  }
  const dial = find(/raw stream connection|Cannot connect to the Docker daemon|Is the docker daemon running/);
  if (dial && /permission denied/i.test(dial)) {
    return {
      kind: "engine-permission",
      reason: `the ssh user may not open the Docker socket on ${host} (${shortLine(dial)})`,
      fix: `add that user to the 'docker' group on ${host}, or name a socket it may open: ssh://user@host/path/to/docker.sock`,
    };
  }
  if (dial) {
    return {
      kind: "engine-down",
      reason: `no engine answers on ${host} (${shortLine(dial)})`,
      fix: `start Docker on ${host}, or name its socket: ssh://user@host/path/to/docker.sock`,
    };
  }
  if (exit.exitCode === 0) {
    return {
      kind: "no-answer",
      reason: `${host} ended the session without an answer from \`docker system dial-stdio\``,
      fix: `check that \`${sshLoginHint(target)} docker system dial-stdio\` connects (a ForceCommand or login script may be in the way)`,
    };
  }
  return undefined;
}

function otherFailure(exit: SshExit, { lines }: SshStderr, target: SshTarget): SshFailure {
  const last = lines.at(-1);
  return {
    kind: "other",
    reason: `ssh to ${target.host} ended with ${exit.exitCode === null ? "a signal" : `exit code ${exit.exitCode}`}${last ? ` (${shortLine(last)})` : ""}`,
    fix: `check that \`${sshLoginHint(target)} docker system dial-stdio\` connects from this machine`,
  };
}

/** stderr as printable single lines: no control characters, no empty lines. */
function cleanLines(stderr: string): string[] {
  return stderr
    .split(/\r?\n|\r/)
    .map((line) =>
      line
        .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "")
        .replace(/[\x00-\x1f\x7f-\x9f]/g, "")
        .trim(),
    )
    .filter((line) => line.length > 0);
}

/** A line of ssh's stderr as a message quotes it: at most 160 characters, a cut marked "...". */
function shortLine(line: string): string {
  return clip(line, 160, { mark: "..." });
}
