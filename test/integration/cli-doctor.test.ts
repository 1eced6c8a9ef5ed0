import { describe, expect, test } from "bun:test";
import { ENGINE, SOCKET, SOCKET_SOURCE, TCP_HOST, escapeRegExp, runCli } from "../helpers/engine.ts";

describe("aicage-util doctor", () => {
  test("reports the engine, how it was found, and the util images", async () => {
    const { exitCode, stdout, stderr } = await runCli(["doctor", "--host", `unix://${SOCKET}`]);
    expect(stderr).toBe("");
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(new RegExp(`^endpoint +${escapeRegExp(SOCKET)} \\(--host\\)$`, "m"));
    expect(stdout).toMatch(/^engine +Docker \S+, API 1\.\d+ \(using 1\.\d+\)$/m);
    expect(stdout).toMatch(/^storage driver +\S+$/m);
    expect(stdout).toMatch(new RegExp(`^rootless +${ENGINE === "rootless" ? "yes" : "no"}$`, "m"));
    expect(stdout).toMatch(/^version-check image +\S+:version-check-\S+: /m);
    expect(stdout).toMatch(/^builder image +\S+:builder-\S+: /m);
  });

  test("--json is one object with the same facts", async () => {
    const { exitCode, stdout } = await runCli(["doctor", "--json"], { env: { DOCKER_HOST: TCP_HOST } });
    expect(exitCode).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.endpoint).toEqual({ kind: "tcp", address: TCP_HOST.replace("tcp://", "http://"), source: "DOCKER_HOST" });
    expect(report.engine.reachable).toBe(true);
    expect(report.engine.os).toBe("linux");
    expect(report.engine.storageDriver).toBeString();
    expect(report.images.map((i: { kind: string }) => i.kind)).toEqual(["version-check", "builder"]);
  });

  test("without an engine it still reports, names the endpoint and exits 3", async () => {
    const { exitCode, stdout, stderr } = await runCli(["doctor"], { env: { DOCKER_HOST: "unix:///tmp/aicage-missing.sock" } });
    expect(exitCode).toBe(3);
    expect(stdout).toMatch(/^endpoint +\/tmp\/aicage-missing\.sock \(DOCKER_HOST\)$/m);
    expect(stdout).toContain("will run on the host only");
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("Docker engine unreachable at /tmp/aicage-missing.sock (DOCKER_HOST): the socket does not exist.");
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

  test("an unknown flag is a usage error, exit 2, one line", async () => {
    const { exitCode, stderr } = await runCli(["doctor", "--jsn"]);
    expect(exitCode).toBe(2);
    expect(stderr.trim()).toBe("[error] unknown option --jsn for 'aicage-util doctor'; see 'aicage-util doctor --help'");
  });

  test("a bad --host is a usage error, exit 2", async () => {
    const { exitCode, stderr } = await runCli(["doctor", "--host", "ssh://box"]);
    expect(exitCode).toBe(2);
    expect(stderr).toContain("unsupported Docker host 'ssh://box'");
  });

  test("--version prints version and revision", async () => {
    const { exitCode, stdout } = await runCli(["--version"]);
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/^aicage-util \d+\.\d+\.\d+\S* \(\S+\)\n$/);
  });
});
