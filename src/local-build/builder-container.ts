// The container that builds with `--via builder`: the builder util image running
// `docker buildx build` against the host's engine. The host socket is mounted in (or, for a
// TCP engine, DOCKER_HOST is passed), the context read-only at /context, and a Dockerfile from
// outside the context with its folder read-only at /dockerfile. Everything reaches buildx as
// an argument array: no shell, no quoting. Build arguments are named in the command
// (`--build-arg NAME`, which buildx reads from its own environment) and their values set in the
// container's environment: the container's command line, which `docker ps`, `docker inspect`
// and `ps` on the engine's machine show, holds no value that may be a token (but for the few
// names buildx reads itself, see BUILDER_OWN_NAME).
import path from "node:path";
import { isInside } from "../lib/paths.ts";
import type { ContainerSpec } from "../docker/containers.ts";
import type { DockerEndpoint } from "../docker/docker-endpoint.ts";
import { managedLabels } from "../core/labels.ts";
import type { BuildSettings } from "./build-settings.ts";
import { type BuildSecret, buildxSecretArgs } from "./build-secrets.ts";

const CONTEXT_MOUNT = "/context";
const DOCKERFILE_MOUNT = "/dockerfile";
const CERTS_MOUNT = "/certs";

export interface BuilderBuild extends BuildSettings {
  /** the builder image to run (an ID) */
  image: string;
  endpoint: DockerEndpoint;
  /** absolute paths on the host */
  contextDir: string;
  dockerfile: string;
  /** the user's build arguments: by name in the command, the values in the environment (see commandLineBuildArg) */
  buildArgs: Record<string, string>;
  /** proxy variables: passed by name and read from the container's environment, so their values stay out of the command */
  proxyArgs: Record<string, string>;
  /** a Dockerfile to build instead of the file's text: copied into the container (REWRITTEN_DOCKERFILE) */
  dockerfileText?: string;
  /** `--secret` values: copied into the container, named to buildx by path (build-secrets.ts) */
  secrets?: BuildSecret[];
}

/** Where the container finds a Dockerfile given as text (copied in before it starts). */
export const REWRITTEN_DOCKERFILE = "/aicage-dockerfile/Dockerfile";

/**
 * Names the docker CLI, buildx, the Go runtime, the dynamic loader or the container itself read
 * for their own use. A build argument of such a name cannot be set in buildx's environment
 * without changing how buildx runs (`PATH`, `DOCKER_HOST`, `LD_PRELOAD`): it goes in the command
 * as NAME=value. BuildKit's own arguments (`BUILDKIT_INLINE_CACHE=1`) are among them.
 */
const BUILDER_OWN_NAME =
  /^(?:PATH|HOME|TMPDIR|SSL_CERT_FILE|SSL_CERT_DIR|GODEBUG|GOGC|GOMAXPROCS|GOMEMLIMIT|GOTRACEBACK|(?:DOCKER|BUILDX|BUILDKIT|OTEL|LD)_.*)$/;

/** Whether a user's build argument goes in the command with its value, rather than by name with the value in the environment. */
export function commandLineBuildArg(name: string): boolean {
  return BUILDER_OWN_NAME.test(name);
}

type Mount = NonNullable<NonNullable<ContainerSpec["HostConfig"]>["Mounts"]>[number];

/** The folders of this machine the builder container bind-mounts: the context, and a Dockerfile's own folder when outside it. */
export function builderMountSources(contextDir: string, dockerfile: string): string[] {
  return isInside(contextDir, dockerfile) ? [contextDir] : [contextDir, path.dirname(dockerfile)];
}

export function builderContainerSpec(build: BuilderBuild): ContainerSpec {
  const mounts: Mount[] = [{ Type: "bind", Source: build.contextDir, Target: CONTEXT_MOUNT, ReadOnly: true }];
  let dockerfile: string;
  if (build.dockerfileText !== undefined) {
    dockerfile = REWRITTEN_DOCKERFILE;
  } else if (isInside(build.contextDir, build.dockerfile)) {
    const relative = path.relative(build.contextDir, build.dockerfile);
    dockerfile = path.posix.join(CONTEXT_MOUNT, relative.split(path.sep).join("/"));
  } else {
    mounts.push({ Type: "bind", Source: path.dirname(build.dockerfile), Target: DOCKERFILE_MOUNT, ReadOnly: true });
    dockerfile = path.posix.join(DOCKERFILE_MOUNT, path.basename(build.dockerfile));
  }

  const env = [
    // buildx would add provenance attestations, which the docker driver cannot store on older engines.
    "BUILDX_NO_DEFAULT_ATTESTATIONS=1",
    "DOCKER_CLI_HINTS=false",
  ];
  // The user's build arguments win over a proxy variable of the same name.
  const byName: Record<string, string> = { ...build.proxyArgs };
  for (const [name, value] of Object.entries(build.buildArgs)) {
    if (!commandLineBuildArg(name)) byName[name] = value;
  }
  env.push(...Object.entries(byName).map(([name, value]) => `${name}=${value}`));
  const engine = engineAccess(build.endpoint);
  mounts.push(...engine.mounts);
  env.push(...engine.env);

  const cmd = ["docker", "buildx", "build", "--progress=plain", "-f", dockerfile];
  for (const tag of build.tags) cmd.push("-t", tag);
  for (const [name, value] of Object.entries(build.buildArgs)) {
    if (commandLineBuildArg(name)) cmd.push("--build-arg", `${name}=${value}`);
  }
  for (const name of Object.keys(byName)) cmd.push("--build-arg", name);
  for (const [name, value] of Object.entries(build.labels)) cmd.push("--label", `${name}=${value}`);
  if (build.target) cmd.push("--target", build.target);
  if (build.platform) cmd.push("--platform", build.platform);
  if (build.noCache) cmd.push("--no-cache");
  if (build.pull) cmd.push("--pull");
  if (build.network) cmd.push("--network", build.network);
  cmd.push(...buildxSecretArgs(build.secrets ?? []));
  // With buildx's default "docker" driver the image lands in the engine's store: no --load needed.
  cmd.push(CONTEXT_MOUNT);

  return {
    Image: build.image,
    Cmd: cmd,
    Entrypoint: null,
    Env: env,
    Labels: managedLabels(),
    WorkingDir: CONTEXT_MOUNT,
    HostConfig: { Mounts: mounts, NetworkMode: engine.networkMode },
  };
}

/** How the docker CLI inside reaches the same engine this tool talks to. */
function engineAccess(endpoint: DockerEndpoint): { mounts: Mount[]; env: string[]; networkMode: string } {
  if (endpoint.kind === "unix") {
    // Only the socket is needed: the container itself gets no network.
    const socket = socketSeenByEngine(endpoint.socketPath!);
    return { mounts: [{ Type: "bind", Source: socket, Target: "/var/run/docker.sock" }], env: [], networkMode: "none" };
  }
  // TCP: the container shares the host's network, so the same address works from inside.
  const url = new URL(endpoint.origin!);
  const env = [`DOCKER_HOST=tcp://${url.host}`];
  const mounts: Mount[] = [];
  if (endpoint.tls) {
    env.push("DOCKER_TLS=1", `DOCKER_CERT_PATH=${CERTS_MOUNT}`);
    if (endpoint.tls.verify) env.push("DOCKER_TLS_VERIFY=1");
    for (const [file, name] of [
      [endpoint.tls.ca, "ca.pem"],
      [endpoint.tls.cert, "cert.pem"],
      [endpoint.tls.key, "key.pem"],
    ] as const) {
      if (file) mounts.push({ Type: "bind", Source: file, Target: `${CERTS_MOUNT}/${name}`, ReadOnly: true });
    }
  }
  return { mounts, env, networkMode: "host" };
}

/**
 * The socket path as the engine sees it, for a bind mount. Docker Desktop, Colima and OrbStack
 * run the engine in a VM and forward its socket to a path in the user's home; inside the VM,
 * where bind sources are resolved, the engine's socket is /var/run/docker.sock.
 */
export function socketSeenByEngine(socketPath: string): string {
  const forwardedFromVm = /\/\.docker\/(run|desktop)\/docker\.sock$|\/\.colima\/|\/\.orbstack\//;
  return forwardedFromVm.test(socketPath) ? "/var/run/docker.sock" : socketPath;
}
