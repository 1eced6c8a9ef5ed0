import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveEndpoint } from "../../src/docker/endpoint.ts";
import { EndpointError } from "../../src/docker/errors.ts";
import { tempDir } from "../helpers/temp.ts";

const none = () => false;

function homeWithContext(name: string, host: string, current = true) {
  const home = tempDir("aicage-endpoint-");
  const config = join(home, ".docker");
  const id = createHash("sha256").update(name).digest("hex");
  mkdirSync(join(config, "contexts", "meta", id), { recursive: true });
  writeFileSync(
    join(config, "contexts", "meta", id, "meta.json"),
    JSON.stringify({ Name: name, Endpoints: { docker: { Host: host } } }),
  );
  if (current) writeFileSync(join(config, "config.json"), JSON.stringify({ currentContext: name }));
  return home;
}

describe("resolveEndpoint", () => {
  test("--host wins over DOCKER_HOST", () => {
    const endpoint = resolveEndpoint({
      host: "unix:///a.sock",
      hostSource: "--host",
      env: { DOCKER_HOST: "unix:///b.sock" },
      exists: none,
    });
    expect(endpoint).toMatchObject({ kind: "unix", socketPath: "/a.sock", source: "--host" });
  });

  test("DOCKER_HOST tcp:// without TLS is plain HTTP on the given port", () => {
    const endpoint = resolveEndpoint({ env: { DOCKER_HOST: "tcp://127.0.0.1:23750" }, exists: none });
    expect(endpoint).toMatchObject({ kind: "tcp", origin: "http://127.0.0.1:23750", source: "DOCKER_HOST" });
    expect(endpoint.tls).toBeUndefined();
  });

  test("DOCKER_TLS_VERIFY switches tcp:// to HTTPS with the certs of DOCKER_CERT_PATH", () => {
    const endpoint = resolveEndpoint({
      env: { DOCKER_HOST: "tcp://host.docker.internal", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "/certs" },
      exists: none,
    });
    expect(endpoint.origin).toBe("https://host.docker.internal:2376");
    expect(endpoint.tls).toEqual({ ca: "/certs/ca.pem", cert: "/certs/cert.pem", key: "/certs/key.pem", verify: true });
  });

  test("empty DOCKER_CERT_PATH, DOCKER_HOST, DOCKER_CONTEXT, DOCKER_CONFIG are unset, as for the docker CLI", () => {
    // An empty DOCKER_CERT_PATH once meant ./ca.pem: the folder one stands in chose whom to trust.
    const tls = resolveEndpoint({
      env: { DOCKER_HOST: "tcp://box:2376", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: "", DOCKER_CONFIG: "" },
      home: "/home/me",
      exists: none,
    }).tls;
    expect(tls).toEqual({
      ca: "/home/me/.docker/ca.pem",
      cert: "/home/me/.docker/cert.pem",
      key: "/home/me/.docker/key.pem",
      verify: true,
    });
    const home = homeWithContext("colima", "unix:///colima.sock");
    const env = { DOCKER_HOST: "", DOCKER_CONTEXT: "", DOCKER_CONFIG: "" };
    expect(resolveEndpoint({ env, home, exists: none })).toMatchObject({
      socketPath: "/colima.sock",
      source: "context colima (current context)",
    });
  });

  test("the TLS files default to DOCKER_CONFIG's folder; any DOCKER_TLS_VERIFY but empty verifies, as for the docker CLI", () => {
    const env = { DOCKER_HOST: "tcp://box", DOCKER_CONFIG: "/etc/me-docker" };
    const tls = (extra: Record<string, string>) =>
      resolveEndpoint({ env: { ...env, ...extra }, home: "/home/me", exists: none }).tls;
    expect(tls({ DOCKER_TLS_VERIFY: "1" })).toMatchObject({ ca: "/etc/me-docker/ca.pem", verify: true });
    expect(tls({ DOCKER_TLS_VERIFY: "0" })).toMatchObject({ ca: "/etc/me-docker/ca.pem", verify: true });
    expect(tls({ DOCKER_TLS_VERIFY: "" })).toBeUndefined();
    expect(tls({ DOCKER_TLS: "1" })).toMatchObject({ ca: "/etc/me-docker/ca.pem", verify: false });
    expect(tls({ DOCKER_TLS: "" })).toBeUndefined();
  });

  test("an unsupported scheme is a clear error", () => {
    expect(() => resolveEndpoint({ host: "fd://3", exists: none })).toThrow(EndpointError);
    expect(() => resolveEndpoint({ host: "fd://3", exists: none })).toThrow(
      /unsupported Docker host 'fd:\/\/3'; use .* or ssh:\/\/\[USER@\]HOST\[:PORT\]$/,
    );
  });

  test("DOCKER_HOST=ssh:// is an ssh endpoint; DOCKER_SSH_NO_MUX=1 turns connection sharing off", () => {
    const endpoint = resolveEndpoint({ env: { DOCKER_HOST: "ssh://me@box:2222" }, exists: none });
    expect(endpoint).toEqual({
      kind: "ssh",
      ssh: { user: "me", host: "box", port: 2222, remoteSocket: undefined, multiplex: true },
      display: "ssh://me@box:2222",
      source: "DOCKER_HOST",
    });
    expect(
      resolveEndpoint({ env: { DOCKER_HOST: "ssh://box", DOCKER_SSH_NO_MUX: "1" }, exists: none }).ssh?.multiplex,
    ).toBe(false);
    expect(() => resolveEndpoint({ host: "ssh://me:pw@box", exists: none })).toThrow(
      "host setting: 'ssh://me:***@box' holds a password",
    );
  });

  test("a context whose endpoint is ssh:// is an ssh endpoint", () => {
    const home = homeWithContext("buildbox", "ssh://me@buildbox");
    const endpoint = resolveEndpoint({ env: {}, home, exists: none });
    expect(endpoint).toMatchObject({
      kind: "ssh",
      display: "ssh://me@buildbox",
      source: "context buildbox (current context)",
    });
    expect(endpoint.ssh).toMatchObject({ user: "me", host: "buildbox" });
  });

  test("DOCKER_HOST wins over DOCKER_CONTEXT and the current context", () => {
    const home = homeWithContext("colima", "unix:///Users/me/.colima/default/docker.sock");
    const env = { DOCKER_HOST: "unix:///env.sock", DOCKER_CONTEXT: "colima" };
    expect(resolveEndpoint({ env, home, exists: none })).toMatchObject({
      socketPath: "/env.sock",
      source: "DOCKER_HOST",
    });
    expect(resolveEndpoint({ env: { DOCKER_HOST: "unix:///env.sock" }, home, exists: none })).toMatchObject({
      socketPath: "/env.sock",
      source: "DOCKER_HOST",
    });
  });

  test("the current context of config.json is used, its name is recorded", () => {
    const home = homeWithContext("colima", "unix:///Users/me/.colima/default/docker.sock");
    const endpoint = resolveEndpoint({ env: {}, home, exists: none });
    expect(endpoint).toMatchObject({
      socketPath: "/Users/me/.colima/default/docker.sock",
      source: "context colima (current context)",
    });
  });

  test("DOCKER_CONTEXT overrides config.json; a missing context is an error naming it", () => {
    const home = homeWithContext("remote", "tcp://10.0.0.5:2375", false);
    expect(resolveEndpoint({ env: { DOCKER_CONTEXT: "remote" }, home, exists: none }).origin).toBe(
      "http://10.0.0.5:2375",
    );
    expect(() => resolveEndpoint({ env: { DOCKER_CONTEXT: "gone" }, home, exists: none })).toThrow(
      /DOCKER_CONTEXT 'gone' not found/,
    );
  });

  test("the default context falls through to the sockets", () => {
    const home = homeWithContext("default", "unix:///ignored.sock");
    const endpoint = resolveEndpoint({ env: {}, home, exists: (p) => p === "/var/run/docker.sock" });
    expect(endpoint).toMatchObject({ socketPath: "/var/run/docker.sock", source: "default socket" });
  });

  test("sockets are tried in order: engine, rootless, Desktop, Colima, OrbStack, Podman", () => {
    const env = { XDG_RUNTIME_DIR: "/run/user/1000" };
    const home = "/home/me";
    const found = (path: string) => resolveEndpoint({ env, home, exists: (p) => p === path });
    expect(found("/run/user/1000/docker.sock").source).toBe("rootless Docker socket");
    expect(found("/home/me/.docker/run/docker.sock").source).toBe("Docker Desktop socket");
    expect(found("/home/me/.colima/default/docker.sock").source).toBe("Colima socket");
    expect(found("/home/me/.orbstack/run/docker.sock").source).toBe("OrbStack socket");
    expect(found("/run/user/1000/podman/podman.sock").source).toBe("Podman socket");
    expect(found("/run/podman/podman.sock").source).toBe("Podman socket (rootful)");
    const both = resolveEndpoint({ env, home, exists: (p) => p.endsWith("docker.sock") });
    expect(both.socketPath).toBe("/var/run/docker.sock");
  });

  test("the other sockets that exist come along, in order, to be tried when the first refuses", () => {
    const env = { XDG_RUNTIME_DIR: "/run/user/1000" };
    const present = new Set([
      "/var/run/docker.sock",
      "/run/user/1000/docker.sock",
      "/run/user/1000/podman/podman.sock",
    ]);
    const endpoint = resolveEndpoint({ env, home: "/home/me", exists: (p) => present.has(p) });
    expect(endpoint.socketPath).toBe("/var/run/docker.sock");
    expect(endpoint.alternatives?.map((e) => [e.socketPath, e.source])).toEqual([
      ["/run/user/1000/docker.sock", "rootless Docker socket"],
      ["/run/user/1000/podman/podman.sock", "Podman socket"],
    ]);
    expect(
      resolveEndpoint({ env, home: "/home/me", exists: (p) => p === "/var/run/docker.sock" }).alternatives,
    ).toBeUndefined();
  });

  test("with no socket anywhere, the default path is named as not found", () => {
    expect(resolveEndpoint({ env: {}, home: "/nowhere", exists: none })).toMatchObject({
      socketPath: "/var/run/docker.sock",
      source: "default socket, not found",
    });
  });
});
