import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CLIENT_MAX_API_VERSION, compareApiVersions } from "../../src/docker/api-version.ts";
import { DockerClient } from "../../src/docker/client.ts";
import { findImage, inspectImage, listImages, pullImage, removeImage, tagImage } from "../../src/docker/images.ts";
import { resolveEndpoint } from "../../src/docker/endpoint.ts";
import { DockerApiError, DockerError, EngineUnreachableError, NotFoundError } from "../../src/docker/errors.ts";
import { runContainer } from "../../src/workloads/run-container.ts";
import { engineVersion } from "../../src/docker/system.ts";
import { MANAGED_LABEL, managedLabels } from "../../src/core/labels.ts";
import {
  BASE_IMAGE,
  CLI_TEST_ENV,
  PODMAN,
  REPO_ROOT,
  TCP_HOST,
  leakWatch,
  plainTags,
  testClient,
} from "../helpers/engine.ts";
import { makeCertificates, startTlsProxy } from "../helpers/tls-proxy.ts";
import { startEngineProxy } from "../helpers/engine-proxy.ts";

const client = testClient();
let watch: Awaited<ReturnType<typeof leakWatch>>;

beforeAll(async () => {
  watch = await leakWatch(client);
});

afterAll(async () => {
  expect(await watch.leaked()).toEqual([]);
});

describe("engine connection", () => {
  test("ping answers the server API version and negotiation picks the lower of both", async () => {
    const server = await client.ping();
    expect(server).toMatch(/^1\.\d+$/);
    const expected = compareApiVersions(server, CLIENT_MAX_API_VERSION) < 0 ? server : CLIENT_MAX_API_VERSION;
    expect(await client.apiVersion()).toBe(expected);
    const version = await engineVersion(client);
    expect(version.ApiVersion).toBe(server);
  });

  test("an older fixed API version is sent in the path and honoured (seen on the wire)", async () => {
    const proxy = await startEngineProxy();
    try {
      const old = new DockerClient(resolveEndpoint({ host: proxy.host }), { apiVersion: "1.40" });
      expect(await old.apiVersion()).toBe("1.40");
      expect((await engineVersion(old)).Version).toBeString();
      await listImages(old, { labels: { [MANAGED_LABEL]: "true" } });
      expect(await findImage(old, BASE_IMAGE)).toBeDefined();
      // A fixed version asks no /_ping; every request carries the version in its path.
      expect(proxy.requests.map((r) => `${r.method} ${r.target.split("?")[0]}`)).toEqual([
        "GET /v1.40/version",
        "GET /v1.40/images/json",
        `GET /v1.40/images/${encodeURIComponent(BASE_IMAGE)}/json`,
      ]);
    } finally {
      proxy.stop();
    }
  });

  test("negotiated: one unversioned /_ping, then every request under /v<negotiated>/ (seen on the wire)", async () => {
    const proxy = await startEngineProxy();
    try {
      const negotiating = new DockerClient(resolveEndpoint({ host: proxy.host }));
      const version = await negotiating.apiVersion();
      await engineVersion(negotiating);
      await findImage(negotiating, "aicage-util-test/absent:none");
      const result = await runContainer(negotiating, {
        Image: BASE_IMAGE,
        Cmd: ["true"],
        Labels: managedLabels(),
        HostConfig: { NetworkMode: "none" },
      });
      expect(result.exitCode).toBe(0);
      const paths = proxy.requests.map((r) => r.target.split("?")[0]!);
      expect(paths[0]).toBe("/_ping");
      expect(paths.slice(1).length).toBeGreaterThan(6);
      expect(paths.slice(1).filter((path) => !path.startsWith(`/v${version}/`))).toEqual([]);
      expect(paths.filter((path) => path === "/_ping")).toHaveLength(1);
    } finally {
      proxy.stop();
    }
  });

  test("the CLI's requests carry the negotiated version too (seen on the wire)", async () => {
    const proxy = await startEngineProxy();
    try {
      const run = Bun.spawn([process.execPath, `${REPO_ROOT}/src/cli.ts`, "images", "ls", "--json"], {
        env: { ...process.env, ...CLI_TEST_ENV, DOCKER_HOST: proxy.host },
        stdout: "pipe",
        stderr: "pipe",
      });
      expect(await run.exited).toBe(0);
      const paths = proxy.requests.map((r) => r.target.split("?")[0]!);
      expect(paths[0]).toBe("/_ping");
      expect(paths.length).toBeGreaterThan(2);
      expect(paths.slice(1).filter((path) => !/^\/v1\.\d+\//.test(path))).toEqual([]);
    } finally {
      proxy.stop();
    }
  });

  test("a wrong socket path gives the unreachable error naming that path", async () => {
    const wrong = testClient("unix:///tmp/aicage-no-such.sock");
    const error = await wrong.apiVersion().catch((e) => e);
    expect(error).toBeInstanceOf(EngineUnreachableError);
    expect(error.message).toBe(
      "Docker engine unreachable at /tmp/aicage-no-such.sock (--host): the socket does not exist.",
    );
  });

  test("DOCKER_HOST=tcp:// reaches the engine listening on loopback TCP", async () => {
    const tcp = new DockerClient(resolveEndpoint({ env: { DOCKER_HOST: TCP_HOST }, exists: () => false }));
    expect(tcp.endpoint.source).toBe("DOCKER_HOST");
    expect((await engineVersion(tcp)).ApiVersion).toBe(await client.ping());
    expect(await findImage(tcp, BASE_IMAGE)).toBeDefined();
  });

  test("DOCKER_TLS_VERIFY with DOCKER_CERT_PATH: HTTPS with a client certificate, under Bun and Deno", async () => {
    const certs = makeCertificates();
    const [, hostname, port] = /^tcp:\/\/(.+):(\d+)$/.exec(TCP_HOST)!;
    const proxy = startTlsProxy(certs, { hostname: hostname!, port: Number(port) });
    try {
      const env = { DOCKER_HOST: proxy.host, DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: certs };
      const tls = new DockerClient(resolveEndpoint({ env, exists: () => false }));
      expect(tls.endpoint.origin).toStartWith("https://127.0.0.1:");
      expect((await engineVersion(tls)).ApiVersion).toBe(await client.ping());
      // Async spawn: the proxy lives in this process and must keep serving meanwhile.
      const deno = Bun.spawn([`${REPO_ROOT}/node_modules/.bin/deno`, "run", "-A", "src/cli.ts", "doctor", "--json"], {
        cwd: REPO_ROOT,
        env: { ...process.env, ...env },
        stdout: "pipe",
      });
      const report = JSON.parse(await new Response(deno.stdout).text());
      expect([await deno.exited, report.engine.reachable]).toEqual([0, true]);
      // Without a client certificate the TLS front refuses: unreachable, not a hang.
      const anonymous = new DockerClient(
        resolveEndpoint({ host: proxy.host.replace("tcp://", "https://"), env: {}, exists: () => false }),
      );
      expect(await anonymous.apiVersion().catch((e) => e)).toBeInstanceOf(EngineUnreachableError);
    } finally {
      proxy.stop();
    }
  });

  test("missing TLS certificate files are named, as a usage error", () => {
    const env = {
      DOCKER_HOST: "tcp://127.0.0.1:2376",
      DOCKER_TLS_VERIFY: "1",
      DOCKER_CERT_PATH: "/tmp/aicage-no-certs",
    };
    expect(() => new DockerClient(resolveEndpoint({ env, exists: () => false }))).toThrow(
      /^cannot read the TLS certificates for https:\/\/127\.0\.0\.1:2376 \(DOCKER_HOST\): .*\/tmp\/aicage-no-certs\/ca\.pem.*; set DOCKER_CERT_PATH/,
    );
  });

  test("a closed TCP port is reported as connection refused", async () => {
    const error = await testClient("tcp://127.0.0.1:9")
      .apiVersion()
      .catch((e) => e);
    expect(error).toBeInstanceOf(EngineUnreachableError);
    expect(error.message).toContain("http://127.0.0.1:9 (--host): connection refused");
  });
});

describe("images", () => {
  test("inspect, tag, list, remove", async () => {
    const base = await inspectImage(client, BASE_IMAGE);
    const tag = `aicage-util-test/tagged:${Date.now()}`;
    await tagImage(client, BASE_IMAGE, tag);
    expect((await inspectImage(client, tag)).Id).toBe(base.Id);
    const all = await listImages(client);
    expect(plainTags(all.find((image) => image.Id === base.Id)?.RepoTags)).toContain(tag);
    await removeImage(client, tag);
    expect(await findImage(client, tag)).toBeUndefined();
    expect((await inspectImage(client, BASE_IMAGE)).Id).toBe(base.Id);
    const error = await inspectImage(client, tag).catch((e) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toContain(`inspect image ${tag} failed: `);
    expect(error.message).toContain("No such image");
  });

  test("a pull with no registry reachable fails fast with the registry's message", async () => {
    const started = performance.now();
    const error = await pullImage(client, "ghcr.io/aicage/aicage-image-util:no-such-tag").catch((e) => e);
    // Podman 4.3 answers 200 and reports the failure in the progress stream; the others answer 500.
    expect(error).toBeInstanceOf(PODMAN ? DockerError : DockerApiError);
    expect(error.message).toMatch(/^pull ghcr\.io\/aicage\/aicage-image-util:no-such-tag failed: .*ghcr\.io/);
    expect(performance.now() - started).toBeLessThan(30_000);
  });
});

describe("runContainer", () => {
  const spec = (script: string) => ({
    Image: BASE_IMAGE,
    Cmd: ["bash", "-c", script],
    Labels: managedLabels(),
    HostConfig: { NetworkMode: "none" },
  });

  test("separates interleaved stdout and stderr and passes the exit code through", async () => {
    const script = "for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done; exit 7";
    const result = await runContainer(client, spec(script), { timeoutMs: 30_000 });
    expect(result.exitCode).toBe(7);
    expect(result.timedOut).toBe(false);
    expect(result.stdout).toBe("out1\nout2\nout3\nout4\nout5\n");
    expect(result.stderr).toBe("err1\nerr2\nerr3\nerr4\nerr5\n");
    expect(await findContainer(result.containerId)).toBe(false);
  });

  test("exit 0 with output on both streams", async () => {
    const result = await runContainer(client, spec("echo ok; echo note >&2"));
    expect([result.exitCode, result.stdout, result.stderr]).toEqual([0, "ok\n", "note\n"]);
  });

  test("a timeout kills and removes the container", async () => {
    const started = performance.now();
    let id = "";
    const result = await runContainer(client, spec("echo started; sleep 60"), {
      timeoutMs: 1500,
      onCreated: (created) => (id = created),
    });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBeNull();
    expect(result.stdout).toBe("started\n");
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(await findContainer(id)).toBe(false);
  });

  test("output beyond the cap is dropped and flagged", async () => {
    const result = await runContainer(client, spec("head -c 3000000 /dev/zero | tr '\\0' x; echo tail >&2"), {
      maxOutputBytes: 100_000,
    });
    expect(result.stdout.length).toBe(100_000);
    expect(result.stdoutTruncated).toBe(true);
    expect(result.stderr).toBe("tail\n");
    expect(result.stderrTruncated).toBe(false);
  });

  test("an aborted run rejects and leaves no container", async () => {
    const controller = new AbortController();
    let id = "";
    setTimeout(() => controller.abort(new Error("stop now")), 1000);
    const error = await runContainer(client, spec("sleep 60"), {
      signal: controller.signal,
      onCreated: (created) => (id = created),
    }).catch((e) => e);
    expect(error.message).toBe("stop now");
    expect(await findContainer(id)).toBe(false);
  });

  test(`autoRemove: the answer does not wait for the removal, which the engine does after it${PODMAN ? " (not on Podman: it drops a quick command's log with the container, so the removal stays a phase)" : ""}`, async () => {
    const result = await runContainer(client, spec("echo out; echo err >&2; exit 3"), {
      autoRemove: true,
      timeoutMs: 30_000,
    });
    expect([result.exitCode, result.stdout, result.stderr]).toEqual([3, "out\n", "err\n"]);
    expect(result.phases.map((p) => p.phase)).toEqual([
      "create",
      "start",
      "run",
      "exit",
      ...(PODMAN ? ["remove"] : []),
    ]);
    expect(await gone(result.containerId)).toBe(true);
  });

  test("autoRemove: a timeout kills the container and the engine removes it", async () => {
    const result = await runContainer(client, spec("echo started; sleep 60"), { autoRemove: true, timeoutMs: 1500 });
    expect([result.timedOut, result.exitCode, result.stdout]).toEqual([true, null, "started\n"]);
    expect(await gone(result.containerId)).toBe(true);
  });

  test("autoRemove: a container that never ran (its copy failed) is removed before the call settles", async () => {
    let id = "";
    const error = await runContainer(client, spec("true"), {
      autoRemove: true,
      onCreated: (created) => (id = created),
      copyIn: [
        { path: "/", archive: () => new ReadableStream({ pull: (c) => c.error(new Error("unreadable file")) }) },
      ],
    }).catch((e) => e);
    expect(error.message).toBe("unreadable file");
    expect(await findContainer(id)).toBe(false);
  });

  test("without autoRemove the removal is a phase of the run", async () => {
    const result = await runContainer(client, spec("true"));
    expect(result.phases.map((p) => p.phase)).toEqual(["create", "start", "run", "exit", "remove"]);
    expect(result.phases.every((p) => Number.isInteger(p.ms) && p.ms >= 0)).toBe(true);
  });

  test("a missing image is a not-found error from create, and nothing is left", async () => {
    const error = await runContainer(client, { ...spec("true"), Image: "aicage-util-test/absent:none" }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(NotFoundError);
    expect(await watch.leaked()).toEqual([]);
  });
});

/** The container is gone within 10 s (the engine removes it after the run answered). */
async function gone(id: string): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (!(await findContainer(id))) return true;
    await Bun.sleep(100);
  }
  return false;
}

async function findContainer(id: string): Promise<boolean> {
  expect(id).toMatch(/^[0-9a-f]{64}$/);
  const all = await client.request<Array<{ Id: string }>>("GET", "/containers/json", {
    query: { all: true, filters: JSON.stringify({ label: [MANAGED_LABEL] }) },
  });
  return all.some((c) => c.Id === id);
}
