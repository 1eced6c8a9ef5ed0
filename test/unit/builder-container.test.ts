import { describe, expect, test } from "bun:test";
import {
  type BuilderBuild,
  builderContainerSpec,
  socketSeenByEngine,
} from "../../src/local-build/builder-container.ts";
import { parseHost } from "../../src/docker/endpoint.ts";

const build: BuilderBuild = {
  image: "sha256:builder",
  endpoint: parseHost("unix:///var/run/docker.sock", "test"),
  contextDir: "/home/me/ctx",
  dockerfile: "/home/me/ctx/sub/Dockerfile",
  tags: ["a:1", "b:2"],
  buildArgs: { FROM_IMAGE: "debian:trixie", HTTP_PROXY: "http://mine:1" },
  proxyArgs: { HTTP_PROXY: "http://host:1", no_proxy: "localhost" },
  labels: { "org.example.x": "a b; $(rm -rf /)" },
};

describe("builder container", () => {
  test("runs buildx with an argument array: tags, args by name, labels, options, context last", () => {
    const spec = builderContainerSpec({
      ...build,
      target: "final",
      platform: "linux/arm64",
      noCache: true,
      pull: true,
      network: "host",
    });
    expect(spec.Image).toBe("sha256:builder");
    expect(spec.Entrypoint).toBeNull();
    expect(spec.Cmd).toEqual([
      "docker",
      "buildx",
      "build",
      "--progress=plain",
      "-f",
      "/context/sub/Dockerfile",
      "-t",
      "a:1",
      "-t",
      "b:2",
      // By name only: buildx reads the values from its environment, where the user's HTTP_PROXY
      // won over the host's.
      "--build-arg",
      "HTTP_PROXY",
      "--build-arg",
      "no_proxy",
      "--build-arg",
      "FROM_IMAGE",
      "--label",
      "org.example.x=a b; $(rm -rf /)",
      "--target",
      "final",
      "--platform",
      "linux/arm64",
      "--no-cache",
      "--pull",
      "--network",
      "host",
      "/context",
    ]);
    expect(spec.Env).toEqual(
      expect.arrayContaining(["HTTP_PROXY=http://mine:1", "no_proxy=localhost", "FROM_IMAGE=debian:trixie"]),
    );
    expect(spec.Env).not.toContain("HTTP_PROXY=http://host:1");
    expect(spec.Labels).toEqual({ "org.aicage.util.managed": "true" });
  });

  test("a build argument's value is in the environment, never in the command; names buildx reads itself keep theirs in the command", () => {
    const buildArgs = {
      NPM_TOKEN: "npm_s3cr3t\n# forged",
      EMPTY: "",
      PATH: "/opt/bin",
      DOCKER_HOST: "tcp://elsewhere:1",
      BUILDKIT_INLINE_CACHE: "1",
      LD_PRELOAD: "/x.so",
      GOPROXY: "https://proxy.example",
      docker_password: "lower-case is not the CLI's",
    };
    const spec = builderContainerSpec({ ...build, buildArgs, proxyArgs: {} });
    const cmd = spec.Cmd!;
    const argsInCmd = cmd.flatMap((arg, i) => (cmd[i - 1] === "--build-arg" ? [arg] : []));
    expect(argsInCmd).toEqual([
      "PATH=/opt/bin",
      "DOCKER_HOST=tcp://elsewhere:1",
      "BUILDKIT_INLINE_CACHE=1",
      "LD_PRELOAD=/x.so",
      "NPM_TOKEN",
      "EMPTY",
      "GOPROXY",
      "docker_password",
    ]);
    expect(cmd.join(" ")).not.toContain("s3cr3t");
    expect(spec.Env).toEqual(
      expect.arrayContaining([
        "NPM_TOKEN=npm_s3cr3t\n# forged",
        "EMPTY=",
        "GOPROXY=https://proxy.example",
        "docker_password=lower-case is not the CLI's",
      ]),
    );
    // The builder's own environment is not changed by them: a unix socket, the image's PATH.
    expect(spec.Env!.some((e) => /^(PATH|DOCKER_HOST|LD_PRELOAD|BUILDKIT_INLINE_CACHE)=/.test(e))).toBe(false);
  });

  test("unix socket: socket and context mounted, the context read-only, no network", () => {
    const spec = builderContainerSpec(build);
    expect(spec.HostConfig!.NetworkMode).toBe("none");
    expect(spec.HostConfig!.Mounts).toEqual([
      { Type: "bind", Source: "/home/me/ctx", Target: "/context", ReadOnly: true },
      { Type: "bind", Source: "/var/run/docker.sock", Target: "/var/run/docker.sock" },
    ]);
    expect(spec.Env!.some((e) => e.startsWith("DOCKER_HOST="))).toBe(false);
    expect(spec.Cmd).not.toContain("--network");
  });

  test("a Dockerfile outside the context: its folder is mounted read-only too", () => {
    const spec = builderContainerSpec({ ...build, dockerfile: "/home/me/recipes/agent.Dockerfile" });
    expect(spec.HostConfig!.Mounts).toContainEqual({
      Type: "bind",
      Source: "/home/me/recipes",
      Target: "/dockerfile",
      ReadOnly: true,
    });
    expect(spec.Cmd!.slice(4, 6)).toEqual(["-f", "/dockerfile/agent.Dockerfile"]);
  });

  test("a context folder whose name starts with two dots is still inside", () => {
    const spec = builderContainerSpec({ ...build, dockerfile: "/home/me/ctx/..hidden/Dockerfile" });
    expect(spec.Cmd!.slice(4, 6)).toEqual(["-f", "/context/..hidden/Dockerfile"]);
  });

  test("TCP with TLS: host network, DOCKER_HOST, certificates mounted read-only", () => {
    const endpoint = parseHost("tcp://10.0.0.5:2376", "test", {
      DOCKER_TLS_VERIFY: "1",
      DOCKER_CERT_PATH: "/certs/here",
    });
    const spec = builderContainerSpec({ ...build, endpoint });
    expect(spec.HostConfig!.NetworkMode).toBe("host");
    expect(spec.Env).toEqual(
      expect.arrayContaining([
        "DOCKER_HOST=tcp://10.0.0.5:2376",
        "DOCKER_TLS=1",
        "DOCKER_CERT_PATH=/certs",
        "DOCKER_TLS_VERIFY=1",
      ]),
    );
    expect(spec.HostConfig!.Mounts).toContainEqual({
      Type: "bind",
      Source: "/certs/here/key.pem",
      Target: "/certs/key.pem",
      ReadOnly: true,
    });
    expect(spec.HostConfig!.Mounts!.some((m) => m.Target === "/var/run/docker.sock")).toBe(false);
  });

  test("plain TCP: no TLS variables", () => {
    const spec = builderContainerSpec({ ...build, endpoint: parseHost("tcp://127.0.0.1:23750", "test") });
    expect(spec.Env).toContain("DOCKER_HOST=tcp://127.0.0.1:23750");
    expect(spec.Env!.some((e) => e.startsWith("DOCKER_TLS"))).toBe(false);
  });

  test("sockets forwarded from a VM are mounted from the VM's own path", () => {
    expect(socketSeenByEngine("/Users/me/.docker/run/docker.sock")).toBe("/var/run/docker.sock");
    expect(socketSeenByEngine("/Users/me/.colima/default/docker.sock")).toBe("/var/run/docker.sock");
    expect(socketSeenByEngine("/run/user/1000/docker.sock")).toBe("/run/user/1000/docker.sock");
    expect(socketSeenByEngine("/var/run/docker.sock")).toBe("/var/run/docker.sock");
  });
});
