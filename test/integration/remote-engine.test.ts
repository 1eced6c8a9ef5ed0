// An engine that does not see this machine's files (scripts/engines/remote26.sh: Docker 26 in a
// container of the primary, only its own state folder mounted), reached over tcp:// with TLS and
// over ssh:// through a real sshd, as a build server is. Every command must work there as it
// does locally: version checks answer in the image (the agent folder copied in through the
// API), builds upload their context, Ctrl-C leaves nothing on the far engine, ssh failures are
// one line and exit 3. The CLI only ever reaches the engine the way a user's would; the tests'
// own checks use the engine's socket in its state folder.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createContainer } from "../../src/docker/containers.ts";
import { DockerApiError } from "../../src/docker/errors.ts";
import { findImage, inspectImage, removeImage } from "../../src/docker/images.ts";
import {
  BUILDER_IMAGE_LABEL,
  CONTEXT_HASH_LABEL,
  MANAGED_LABEL,
  TOOL_VERSION_LABEL,
  managedLabels,
} from "../../src/core/labels.ts";
import { runContainer } from "../../src/workloads/run-container.ts";
import {
  BASE_IMAGE,
  BUN,
  REPO_ROOT,
  leakWatch,
  managedContainers,
  runCli,
  startCliJob,
  tempDir,
  testClient,
  untaggedManagedImages,
  watchCheckContainers,
} from "../helpers/engine.ts";
import { type Remote, closeRemote, openRemote } from "../helpers/remote-engine.ts";

const EDGE = `${REPO_ROOT}/test/fixtures/agents-edge`;
const BUILDS = `${REPO_ROOT}/test/fixtures/builds`;
const RUN = `${process.pid}-${Date.now().toString(36)}`;
/** The engine the tool finds by itself on this machine: what the remote tests make must not land there. */
const local = testClient("unix:///var/run/docker.sock");
let remote: Remote;
let watch: Awaited<ReturnType<typeof leakWatch>>;

beforeAll(async () => {
  remote = openRemote();
  watch = await leakWatch(remote.client);
}, 600_000);

afterAll(async () => {
  expect(await watch.leaked()).toEqual([]);
  await remote.client.close();
  closeRemote(remote);
}, 120_000);

interface Way {
  name: string;
  kind: string;
  /** the endpoint as the tool shows it */
  display: () => string;
  env: () => Record<string, string>;
}

const WAYS: Way[] = [
  {
    name: "tcp+TLS",
    kind: "tcp",
    display: () => remote.tlsHost.replace("tcp://", "https://"),
    env: () => ({ DOCKER_HOST: remote.tlsHost, DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: remote.certPath }),
  },
  {
    name: "ssh",
    kind: "ssh",
    display: () => remote.sshHost,
    env: () => ({ DOCKER_HOST: remote.sshHost, PATH: remote.ssh().path }),
  },
];

describe("the remote engine cannot see this machine's files", () => {
  test("a bind mount of a test folder is refused, or (Binds) shows an empty folder of the far side", async () => {
    const dir = tempDir("aicage-remote-unseen-");
    writeFileSync(join(dir, "here.txt"), "only on this machine\n");
    const refused = await createContainer(remote.client, {
      Image: BASE_IMAGE,
      Cmd: ["true"],
      Labels: managedLabels(),
      HostConfig: { NetworkMode: "none", Mounts: [{ Type: "bind", Source: dir, Target: "/probe", ReadOnly: true }] },
    }).catch((error) => error);
    expect(refused).toBeInstanceOf(DockerApiError);
    expect(refused.message).toContain(`bind source path does not exist: ${dir}`);
    const listed = await runContainer(remote.client, {
      Image: BASE_IMAGE,
      Cmd: ["ls", "-A", "/probe"],
      Labels: managedLabels(),
      HostConfig: { NetworkMode: "none", Binds: [`${dir}:/probe:ro`] },
    });
    expect([listed.exitCode, listed.stdout]).toEqual([0, ""]);
  });
});

for (const way of WAYS) {
  describe(`over ${way.name}`, () => {
    test("doctor shows the endpoint, how it is reached and the far engine", async () => {
      const text = await runCli(["doctor"], { env: way.env() });
      expect([text.exitCode, text.stderr]).toEqual([0, ""]);
      expect(text.stdout).toContain(`endpoint             ${way.display()} (DOCKER_HOST)\n`);
      expect(text.stdout).toMatch(/^engine +Docker Engine 26\.\S+, API 1\.\d+ \(using 1\.\d+\)$/m);
      // ssh says at once that the builder cannot be used; TCP to loopback is asked at build time.
      expect(text.stdout).toContain(
        way.kind === "ssh"
          ? "builds               --via api (BuildKit); --via builder is not possible here and goes through the API\n"
          : "builds               --via api (BuildKit), --via builder (buildx in the builder image)\n",
      );
      const json = await runCli(["doctor", "--json"], { env: way.env() });
      expect(json.exitCode).toBe(0);
      const report = JSON.parse(json.stdout);
      expect(report.endpoint).toEqual({ kind: way.kind, address: way.display(), source: "DOCKER_HOST" });
      expect(report.engine.reachable).toBe(true);
      // The util images the far engine has are the ones copied there, the same as here.
      const versionCheck = report.images.find((image: { kind: string }) => image.kind === "version-check");
      expect(versionCheck).toMatchObject({ present: true, current: true });
      expect(versionCheck.id).toBe((await inspectImage(remote.client, versionCheck.ref)).Id);
    });

    test("a version check answers in the image, from the agent folder copied there", async () => {
      const agent = join(tempDir("aicage-remote-agents-"), "copied-agent");
      mkdirSync(agent);
      const answer = `4.${process.pid % 1000}.${Date.now() % 1000}`;
      writeFileSync(join(agent, "answer.txt"), `${answer}\n`);
      // Only the image may answer: the host attempt fails on purpose.
      writeFileSync(
        join(agent, "version.sh"),
        '#!/bin/sh\n[ "${AICAGE_VERSION_CHECK_PLACE:-}" = image ] || exit 7\ncat "$(dirname "$0")/answer.txt"\n',
        { mode: 0o755 },
      );
      const { exitCode, stdout, stderr } = await runCli(["version-check", "--json", agent], { env: way.env() });
      expect([exitCode, stderr]).toEqual([0, ""]);
      const [result] = JSON.parse(stdout).results;
      expect(result).toMatchObject({ agent: "copied-agent", ok: true, version: answer, source: "image" });
    }, 120_000);

    for (const via of ["api", "builder"] as const) {
      test(`build --via ${via}: the image is built on the far engine from the uploaded context`, async () => {
        const tag = `aicage-util-test/remote-${way.kind}-${via}:${RUN}`;
        const { exitCode, stdout, stderr } = await runCli(
          [
            "build",
            `${BUILDS}/tiny`,
            "-t",
            tag,
            "--via",
            via,
            "--network",
            "none",
            "--build-arg",
            `FROM_IMAGE=${BASE_IMAGE}`,
            "--json",
          ],
          { env: way.env() },
        );
        expect(exitCode).toBe(0);
        // The builder would bind-mount the context: the far engine cannot, so the API builds, saying so once.
        expect(stderr).toBe(
          via === "api"
            ? ""
            : `[warn] the engine at ${way.display()} cannot see this machine's files; building through the Engine API instead (--via api)\n`,
        );
        const result = JSON.parse(stdout);
        expect(result).toMatchObject({ tag, via: "api", skipped: false });
        try {
          const image = await inspectImage(remote.client, tag);
          expect(image.Id).toBe(result.imageId);
          expect(image.Config!.Labels).toMatchObject({ [MANAGED_LABEL]: "true", [BUILDER_IMAGE_LABEL]: "api" });
          expect(image.Config!.Labels![CONTEXT_HASH_LABEL]).toMatch(/^sha256:[0-9a-f]{64}$/);
          expect(image.Config!.Labels![TOOL_VERSION_LABEL]).toBeTruthy();
          expect(await findImage(local, tag)).toBeUndefined();
          // The context's file is in the image: it travelled over the wire.
          const note = await runContainer(remote.client, {
            Image: tag,
            Cmd: ["cat", "/note.txt"],
            Labels: managedLabels(),
            HostConfig: { NetworkMode: "none" },
          });
          expect(note.stdout).toBe(readFileSync(`${BUILDS}/tiny/note.txt`, "utf8"));
        } finally {
          await removeImage(remote.client, tag, { force: true });
        }
      }, 120_000);
    }

    test("Ctrl-C during a version check in the image: exit 130, the far container removed", async () => {
      const agent = join(tempDir("aicage-remote-hang-"), "hangs-in-image");
      cpSync(`${EDGE}/hangs-in-image`, agent, { recursive: true });
      const checks = await watchCheckContainers(remote.client);
      const job = startCliJob([BUN, "src/cli.ts", "version-check", "--timeout", "120", agent], way.env());
      expect(await checks.running()).toHaveLength(1);
      job.interrupt();
      expect(await job.exited).toBe(130);
      expect(await checks.left()).toEqual([]);
    }, 90_000);

    test("Ctrl-C during a build: exit 130, no image, no labelled container or image left", async () => {
      const tag = `aicage-util-test/remote-${way.kind}-slow:${RUN}`;
      const containers = new Set(await managedContainers(remote.client));
      const images = new Set(await untaggedManagedImages(remote.client));
      const job = startCliJob(
        [
          BUN,
          "src/cli.ts",
          "build",
          `${BUILDS}/slow`,
          "-t",
          tag,
          "--network",
          "none",
          "--no-cache",
          "--build-arg",
          `FROM_IMAGE=${BASE_IMAGE}`,
          "--build-arg",
          `RUN_ID=${RUN}`,
        ],
        way.env(),
      );
      for (let i = 0; i < 600 && !job.stderr().includes(`sleeping for ${RUN}`); i++) await Bun.sleep(100);
      expect(job.stderr()).toContain(`sleeping for ${RUN}`);
      job.interrupt();
      expect(await job.exited).toBe(130);
      expect(await findImage(remote.client, tag)).toBeUndefined();
      let left: string[] = ["?"];
      for (let i = 0; i < 50 && left.length > 0; i++) {
        left = [
          ...(await managedContainers(remote.client)).filter((id) => !containers.has(id)),
          ...(await untaggedManagedImages(remote.client)).filter((id) => !images.has(id)),
        ];
        if (left.length > 0) await Bun.sleep(100);
      }
      expect(left).toEqual([]);
    }, 120_000);
  });
}

describe("ssh to the remote engine that fails: one line naming cause and fix, exit 3", () => {
  const cases: Array<[string, () => Record<string, string>, RegExp]> = [
    [
      "a key sshd does not accept",
      () => ({ DOCKER_HOST: remote.sshHost, PATH: remote.ssh("unknown-key").path }),
      /: ssh login as root to 127\.0\.0\.1 refused \(Permission denied \(publickey\)\); offer a key/,
    ],
    [
      "a host key not in known_hosts (batch mode cannot ask)",
      () => ({ DOCKER_HOST: remote.sshHost, PATH: remote.ssh("unknown-host").path }),
      /: the host key of 127\.0\.0\.1 is not known, and batch mode cannot ask to accept it; connect once with `ssh -p \d+ root@127\.0\.0\.1`/,
    ],
    [
      "a far user whose PATH has no docker",
      () => ({ DOCKER_HOST: remote.sshHost.replace("root@", "nodocker@"), PATH: remote.ssh().path }),
      /: the docker command was not found on 127\.0\.0\.1; install the docker CLI there, on the PATH of non-interactive ssh sessions \(it runs `docker system dial-stdio`\)\.$/,
    ],
  ];
  for (const [name, env, message] of cases) {
    test(name, async () => {
      const settings = env();
      const { exitCode, stderr } = await runCli(["doctor"], { env: settings });
      expect(exitCode).toBe(3);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr).toStartWith(`[error] Docker engine unreachable at ${settings.DOCKER_HOST} (DOCKER_HOST): `);
      expect(stderr.trim()).toMatch(message);
    });
  }
});
