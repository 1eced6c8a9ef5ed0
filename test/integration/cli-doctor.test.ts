import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { findImage } from "../../src/docker/images.ts";
import { UTIL_IMAGE_KINDS, utilImageNames } from "../../src/util-images/catalog.ts";
import {
  ENGINE,
  PODMAN,
  SOCKET,
  SOCKET_SOURCE,
  TCP_HOST,
  escapeRegExp,
  runCli,
  tempDir,
  testClient,
} from "../helpers/engine.ts";
import { engineSuite } from "../helpers/suite.ts";
import { startUnixForwarder, staleSocket } from "../helpers/unix-forwarder.ts";

// doctor makes nothing: the watch proves it (containers, images, files).
engineSuite([]);

describe("aicage-util doctor", () => {
  test("reports the engine, how it was found, and the util images", async () => {
    const { exitCode, stdout, stderr } = await runCli(["doctor", "--host", `unix://${SOCKET}`]);
    expect(stderr).toBe("");
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(new RegExp(`^endpoint +${escapeRegExp(SOCKET)} \\(--host\\)$`, "m"));
    expect(stdout).toMatch(
      new RegExp(`^engine +${PODMAN ? "Podman" : "Docker Engine"} \\S+, API 1\\.\\d+ \\(using 1\\.\\d+\\)$`, "m"),
    );
    expect(stdout).toMatch(
      PODMAN
        ? /^builds +--via api \(buildah\); --via builder is not possible here and goes through the API$/m
        : /^builds +--via api \(BuildKit\), --via builder \(buildx in the builder image\)$/m,
    );
    expect(stdout).toMatch(/^storage driver +\S+$/m);
    expect(stdout).toMatch(new RegExp(`^rootless +${ENGINE === "rootless" ? "yes" : "no"}$`, "m"));
    expect(stdout).toMatch(/^version-check image +\S+:version-check-\S+: /m);
    expect(stdout).toMatch(/^builder image +\S+:builder-\S+: /m);
  });

  test("--json is one object with the same facts", async () => {
    const { exitCode, stdout } = await runCli(["doctor", "--json"], { env: { DOCKER_HOST: TCP_HOST } });
    expect(exitCode).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.endpoint).toEqual({
      kind: "tcp",
      address: TCP_HOST.replace("tcp://", "http://"),
      source: "DOCKER_HOST",
    });
    expect(report.engine.reachable).toBe(true);
    expect(report.engine.os).toBe("linux");
    expect(report.engine.storageDriver).toBeString();
    expect(report.engine).toMatchObject(
      PODMAN
        ? { product: "Podman", apiBuilder: "buildah", buildWays: { api: true, builder: false } }
        : { product: "Docker Engine", apiBuilder: "buildkit", buildWays: { api: true, builder: true } },
    );
    expect(report.images.map((i: { kind: string }) => i.kind)).toEqual(["version-check", "builder"]);
  });

  test("without an engine it still reports, names the endpoint and exits 3", async () => {
    const { exitCode, stdout, stderr } = await runCli(["doctor"], {
      env: { DOCKER_HOST: "unix:///tmp/aicage-missing.sock" },
    });
    expect(exitCode).toBe(3);
    expect(stdout).toMatch(/^endpoint +\/tmp\/aicage-missing\.sock \(DOCKER_HOST\)$/m);
    expect(stdout).toContain("will run on the host only");
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain(
      "Docker engine unreachable at /tmp/aicage-missing.sock (DOCKER_HOST): the socket does not exist.",
    );
    // The fix is the CLI's words (the Engine client knows no flags), on the same line.
    expect(stderr).toContain(
      "the socket does not exist. Start Docker, or point at a running engine with --host or DOCKER_HOST.",
    );
  });

  test("--json without an engine says why, exit 3", async () => {
    const { exitCode, stdout } = await runCli(["doctor", "--json", "--host", "tcp://127.0.0.1:9"]);
    expect(exitCode).toBe(3);
    expect(JSON.parse(stdout).engine.error.kind).toBe("unreachable");
  });

  test("a socket this user may not open gives the permission error, exit 3", async () => {
    const { exitCode, stderr } = await runCli(["doctor"], { user: "nobody", env: { HOME: "/tmp" } });
    expect(exitCode).toBe(3);
    expect(stderr).toContain(`Permission denied on ${SOCKET} (${SOCKET_SOURCE}). Add your user to the 'docker' group`);
    expect(stderr).not.toContain("    at ");
  });

  test("socket discovery: a socket this user may not open does not win over one that answers", async () => {
    const runtimeDir = tempDir("aicage-xdg-");
    const forwarder = startUnixForwarder(join(runtimeDir, "docker.sock"), SOCKET);
    try {
      const { exitCode, stdout } = await runCli(["doctor", "--json"], {
        user: "nobody",
        env: { HOME: "/tmp", XDG_RUNTIME_DIR: runtimeDir, DOCKER_HOST: "" },
      });
      expect(exitCode).toBe(0);
      const report = JSON.parse(stdout);
      expect(report.endpoint).toEqual({
        kind: "unix",
        address: join(runtimeDir, "docker.sock"),
        source: "rootless Docker socket",
      });
      expect(report.engine.reachable).toBe(true);
    } finally {
      forwarder.stop();
    }
  });

  test("socket discovery: when none answers, every socket tried is named with its reason, one line, exit 3", async () => {
    const runtimeDir = tempDir("aicage-xdg-");
    staleSocket(join(runtimeDir, "docker.sock"));
    const { exitCode, stderr } = await runCli(["doctor"], {
      user: "nobody",
      env: { HOME: "/tmp", XDG_RUNTIME_DIR: runtimeDir, DOCKER_HOST: "" },
    });
    expect(exitCode).toBe(3);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain(
      `no Docker engine answers at the usual sockets: /var/run/docker.sock (default socket): permission denied; ` +
        `${join(runtimeDir, "docker.sock")} (rootless Docker socket): connection refused.`,
    );
  });

  test("an unknown flag is a usage error, exit 2, one line", async () => {
    const { exitCode, stderr } = await runCli(["doctor", "--jsn"]);
    expect(exitCode).toBe(2);
    expect(stderr.trim()).toBe(
      "[error] unknown option --jsn for 'aicage-util doctor'; see 'aicage-util doctor --help'",
    );
  });

  test("a bad --host is a usage error, exit 2", async () => {
    const { exitCode, stderr } = await runCli(["doctor", "--host", "fd://3"]);
    expect(exitCode).toBe(2);
    expect(stderr).toContain("unsupported Docker host 'fd://3'");
  });

  test("--version prints version and revision", async () => {
    const { exitCode, stdout } = await runCli(["--version"]);
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/^aicage-util \d+\.\d+\.\d+\S* \(\S+\)\n$/);
  });
});

// images ls on every engine CI runs (util-images.test.ts, which builds them, runs on the primary).
describe("aicage-util images ls", () => {
  test("names both util images with the IDs the engine has for them, as a table and as JSON", async () => {
    const client = testClient();
    const expected = await Promise.all(
      UTIL_IMAGE_KINDS.map(async (kind) => ({ kind, id: (await findImage(client, utilImageNames(kind).tag))?.Id })),
    );
    const json = await runCli(["images", "ls", "--json"]);
    expect(json.exitCode).toBe(0);
    const images = JSON.parse(json.stdout).images;
    expect(images.map((i: { kind: string; id: string; present: boolean }) => ({ kind: i.kind, id: i.id }))).toEqual(
      expected,
    );
    // test-engine.sh put both in place on this engine.
    for (const { id } of expected) expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    const table = await runCli(["images", "ls"]);
    expect(table.exitCode).toBe(0);
    const rows = table.stdout.trim().split("\n");
    expect(rows[0]).toMatch(/^KIND +IMAGE +ID +SIZE +VERSION +STATE$/);
    for (const [n, { kind, id }] of expected.entries()) {
      expect(rows[n + 1]).toMatch(
        new RegExp(`^${kind} +\\S+:${kind}-\\S+ +${id!.slice(7, 19)} +\\d+ MB +\\S+ +current$`),
      );
    }
  });
});
