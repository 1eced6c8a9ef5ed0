// Where the Docker engine is, and how we found out (what an endpoint is: docker-endpoint.ts).
// The order follows the docker CLI: an explicit host, then the active context, then the usual
// socket locations of Docker Engine, rootless Docker, Docker Desktop, Colima, OrbStack and Podman.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import { join } from "node:path";
import type { DockerEndpoint } from "./docker-endpoint.ts";
import { EndpointError } from "./errors.ts";
import { escapeControls, hasControls, quoted } from "../lib/safe-text.ts";
import { RefusedEngineFileError, readEngineFile } from "./engine-files.ts";
import { type SshTarget, parseSshUrl, shownAddress, sshDisplay } from "./ssh/ssh-target.ts";

export interface EndpointInputs {
  /** an endpoint chosen explicitly (a command-line flag), winning over everything else */
  host?: string;
  /** how to name that choice in messages; default "host setting" */
  hostSource?: string;
  env?: Record<string, string | undefined>;
  home?: string;
  exists?: (path: string) => boolean;
}

export function resolveEndpoint(inputs: EndpointInputs = {}): DockerEndpoint {
  const env = inputs.env ?? process.env;
  // An empty HOME is unset too (homedir() then asks the user database).
  const home = inputs.home || homedir() || userInfo().homedir;
  const exists = inputs.exists ?? existsSync;

  if (inputs.host) return parseHost(inputs.host, inputs.hostSource ?? "host setting", env, undefined, home);
  const dockerHost = setting(env, "DOCKER_HOST");
  if (dockerHost) return parseHost(dockerHost, "DOCKER_HOST", env, undefined, home);

  const fromContext = contextEndpoint(env, home);
  if (fromContext) return fromContext;

  const found: DockerEndpoint[] = defaultSockets(env, home)
    .filter((candidate) => exists(candidate.path))
    .map((candidate) => ({
      kind: "unix",
      socketPath: candidate.path,
      display: candidate.path,
      source: candidate.source,
    }));
  if (found.length > 0) return found.length > 1 ? { ...found[0]!, alternatives: found.slice(1) } : found[0]!;
  const fallback = "/var/run/docker.sock";
  return { kind: "unix", socketPath: fallback, display: fallback, source: "default socket, not found" };
}

/** Parses `unix:///path`, `tcp://host:port`, `http(s)://host:port`, `ssh://[user@]host[:port]` (DOCKER_HOST syntax). */
export function parseHost(
  value: string,
  source: string,
  env: Record<string, string | undefined> = {},
  contextTls?: DockerEndpoint["tls"],
  home: string = homedir(),
): DockerEndpoint {
  const shown = shownAddress(value);
  // A newline would split the message (and a log line) in two; no host or path holds one.
  if (hasControls(value))
    throw new EndpointError(`${source}: the Docker host ${shown} holds a control character; remove it`);
  if (value.startsWith("unix://")) {
    const socketPath = value.slice("unix://".length);
    if (!socketPath)
      throw new EndpointError(`${source}: ${shown} names no socket path; use unix:///path/to/docker.sock`);
    return { kind: "unix", socketPath, display: socketPath, source };
  }
  if (value.startsWith("ssh://")) {
    let ssh: SshTarget;
    try {
      ssh = parseSshUrl(value, { multiplex: !isTrue(env.DOCKER_SSH_NO_MUX) });
    } catch (error) {
      throw new EndpointError(`${source}: ${(error as Error).message}`);
    }
    return { kind: "ssh", ssh, display: sshDisplay(ssh), source };
  }
  const match = /^(tcp|http|https):\/\/(\[[0-9A-Fa-f:.]+\]|[^/:]+)(?::(\d+))?\/?$/.exec(value);
  if (!match) {
    throw new EndpointError(
      `${source}: unsupported Docker host ${shown}; use unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://[USER@]HOST[:PORT]`,
    );
  }
  const [, scheme, hostname, port] = match as unknown as [string, string, string, string | undefined];
  const problem =
    hostProblem(hostname) ??
    (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535)
      ? `port ${port} is not between 1 and 65535`
      : undefined);
  if (problem) throw new EndpointError(`${source}: invalid Docker host ${shown}: ${problem}; use tcp://HOST:PORT`);
  const tls = contextTls ?? tlsFromEnv(env, home);
  const secure = scheme === "https" || (scheme === "tcp" && tls !== undefined);
  const origin = `${secure ? "https" : "http"}://${hostname}:${port ?? (secure ? "2376" : "2375")}`;
  return { kind: "tcp", origin, display: origin, source, tls: secure ? (tls ?? { verify: true }) : undefined };
}

/** Why the host part of a tcp:// address cannot be an address, if it cannot. */
function hostProblem(hostname: string): string | undefined {
  if (hostname.startsWith("[")) return undefined; // an IPv6 literal: the URL parser has the last word
  if (/^[\d.]+$/.test(hostname)) {
    const parts = hostname.split(".");
    if (parts.length !== 4 || parts.some((part) => part === "" || Number(part) > 255 || part.length > 3)) {
      return `${hostname} is not an IPv4 address`;
    }
    return undefined;
  }
  if (
    !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/.test(hostname) ||
    hostname.length > 253
  ) {
    return `${quoted(hostname, 60)} is not a host name`;
  }
  return undefined;
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && /^(1|t|true)$/i.test(value);
}

/**
 * An environment variable as the docker CLI reads it: empty is unset. An empty DOCKER_CERT_PATH
 * taken as a path would read the CA and keys from the current folder, so that a repository one
 * cd's into would choose whom the engine connection trusts.
 */
function setting(env: Record<string, string | undefined>, name: string): string | undefined {
  return env[name] || undefined;
}

/**
 * DOCKER_TLS_VERIFY / DOCKER_TLS / DOCKER_CERT_PATH, as the docker CLI reads them: any value of
 * DOCKER_TLS_VERIFY but the empty one turns verification on ("0" too, as for the docker CLI and
 * its Go client); DOCKER_TLS (or a DOCKER_CERT_PATH alone, as for the Go client) turns TLS on
 * without it. The files are in DOCKER_CERT_PATH, else in the docker config folder.
 */
function tlsFromEnv(env: Record<string, string | undefined>, home: string): DockerEndpoint["tls"] {
  const verify = setting(env, "DOCKER_TLS_VERIFY") !== undefined;
  const certPath = setting(env, "DOCKER_CERT_PATH");
  if (!verify && !certPath && !setting(env, "DOCKER_TLS")) return undefined;
  const dir = certPath ?? dockerConfigDir(env, home);
  return { ca: join(dir, "ca.pem"), cert: join(dir, "cert.pem"), key: join(dir, "key.pem"), verify };
}

function dockerConfigDir(env: Record<string, string | undefined>, home: string): string {
  return setting(env, "DOCKER_CONFIG") ?? join(home, ".docker");
}

/** The endpoint of DOCKER_CONTEXT or of `currentContext` in config.json, unless it is "default". */
function contextEndpoint(env: Record<string, string | undefined>, home: string): DockerEndpoint | undefined {
  const configDir = dockerConfigDir(env, home);
  let name = setting(env, "DOCKER_CONTEXT");
  let how = "DOCKER_CONTEXT";
  if (!name) {
    const configPath = join(configDir, "config.json");
    let config: any;
    try {
      config = JSON.parse(engineFile(configPath, "the docker config") ?? "{}");
    } catch (error) {
      if (error instanceof EndpointError) throw error;
      return undefined; // unreadable or not JSON: the docker CLI also falls through (with a warning)
    }
    name = typeof config?.currentContext === "string" ? config.currentContext : undefined;
    how = "current context";
  }
  if (!name || name === "default") return undefined;

  const id = createHash("sha256").update(name).digest("hex");
  const metaPath = join(configDir, "contexts", "meta", id, "meta.json");
  const notFound = `${how} ${quoted(name, 80)} not found (${metaPath}); run 'docker context ls' or unset it`;
  let meta: any;
  try {
    meta = JSON.parse(engineFile(metaPath, `the context ${quoted(name, 80)}`) ?? "");
  } catch (error) {
    if (error instanceof EndpointError) throw error;
    throw new EndpointError(notFound);
  }
  const docker = meta?.Endpoints?.docker;
  if (typeof docker?.Host !== "string") {
    throw new EndpointError(`${how} ${quoted(name, 80)} has no docker endpoint in ${metaPath}`);
  }
  const tlsDir = join(configDir, "contexts", "tls", id, "docker");
  const tls = existsSync(tlsDir)
    ? {
        ca: join(tlsDir, "ca.pem"),
        cert: join(tlsDir, "cert.pem"),
        key: join(tlsDir, "key.pem"),
        verify: !docker.SkipTLSVerify,
      }
    : undefined;
  // The context's own TLS files, never DOCKER_TLS_* of the environment.
  return parseHost(docker.Host, `context ${name} (${how})`, { DOCKER_SSH_NO_MUX: env.DOCKER_SSH_NO_MUX }, tls);
}

/**
 * A settings file's text, undefined when missing. One that is no regular file or too large is
 * refused (EndpointError: exit 2) rather than read: a FIFO would hang the read for good.
 */
function engineFile(path: string, what: string): string | undefined {
  try {
    return readEngineFile(path);
  } catch (error) {
    if (!(error instanceof RefusedEngineFileError)) throw error;
    throw new EndpointError(
      `cannot read ${what}: ${escapeControls(error.message)}; make it a regular file, or set DOCKER_HOST`,
    );
  }
}

function defaultSockets(env: Record<string, string | undefined>, home: string) {
  const runtimeDir = env.XDG_RUNTIME_DIR;
  const list = [{ path: "/var/run/docker.sock", source: "default socket" }];
  if (runtimeDir) list.push({ path: join(runtimeDir, "docker.sock"), source: "rootless Docker socket" });
  list.push(
    { path: join(home, ".docker", "run", "docker.sock"), source: "Docker Desktop socket" },
    { path: join(home, ".colima", "default", "docker.sock"), source: "Colima socket" },
    { path: join(home, ".orbstack", "run", "docker.sock"), source: "OrbStack socket" },
  );
  if (runtimeDir) list.push({ path: join(runtimeDir, "podman", "podman.sock"), source: "Podman socket" });
  list.push({ path: "/run/podman/podman.sock", source: "Podman socket (rootful)" });
  return list;
}
