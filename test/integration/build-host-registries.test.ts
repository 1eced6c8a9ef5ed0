// Builds where users are (issue 19): a registry mirror whose certificate comes from a CA only
// the host trusts, as behind a TLS-inspecting proxy. aicage's agent build (the aicage-agent
// fixture: `# check=`, `ARG BASE_IMAGE`, `SHELL` bash, a RUN with its own bind mount of agents/)
// runs an install.sh that does `npm install --global` and `pip install` from the loopback
// registry. The host's npm and pip set-up (a temporary HOME's .npmrc and pip.conf: the mirror and
// its CA) reaches every RUN step, both ways; nothing of it is in the image (`docker save`, searched for the CA's bytes and a token);
// with the forwarding off, the build fails with a line that names TLS and the switch.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { utilImageNames } from "../../src/util-images/catalog.ts";
import { BASE_IMAGE, ENGINE, PODMAN, REPO_ROOT, runCli, tempDir, testClient } from "../helpers/engine.ts";
import { type LoopbackRegistry, startLoopbackRegistry } from "../helpers/loopback-registry.ts";
import { writeSecretFormsHome } from "../helpers/secret-forms.ts";
import { engineSuite } from "../helpers/suite.ts";

const client = testClient();
const RUN = `${process.pid}-${Date.now().toString(36)}`;
/** A token in the user's npm set-up, for another registry: it must show up nowhere. */
const TOKEN = `npm_marker${RUN.replace(/[^a-z0-9]/g, "")}TOKEN`;
/** The base: an image with node and npm, on every engine the tests run on. */
const BASE = utilImageNames("version-check", {}).tag;

let registry: LoopbackRegistry;
let home: string;

beforeAll(() => {
  // An engine in a network namespace of its own (Podman) reaches this one port of the host.
  registry = startLoopbackRegistry({ port: Number(process.env.AICAGE_TEST_UPSTREAM_PORT || 0) });
  home = tempDir("aicage-build-home-");
  writeFileSync(
    join(home, ".npmrc"),
    `registry=${registry.npmUrl}\ncafile=${registry.caFile}\n//other.example/:_authToken=${TOKEN}\n`,
  );
  mkdirSync(join(home, ".config/pip"), { recursive: true });
  writeFileSync(
    join(home, ".config/pip/pip.conf"),
    `[global]\nindex-url = ${registry.pipUrl}\ncert = ${registry.caFile}\n`,
  );
});
afterAll(() => registry?.stop());
// After the registry's hooks: its CA file is gone before the suite looks for leftovers.
const suite = engineSuite(["version-check", "builder"], client);

/** aicage's agent build, its agent's install.sh running `npm install --global` as the image's user. */
function agentContext(): string {
  const context = join(tempDir("aicage-agent-build-"), "context");
  cpSync(join(REPO_ROOT, "test/fixtures/builds/aicage-agent"), context, { recursive: true });
  writeFileSync(
    join(context, "agents/sample/install.sh"),
    [
      "#!/usr/bin/env bash",
      "set -euo pipefail",
      'npm install --global --fetch-retries=0 --prefix "$HOME/agent" plain-agent',
      '"$HOME/agent/bin/plain-agent"',
      "pip install --user --break-system-packages --retries 0 --no-warn-script-location mirror-agent",
      "python3 -c \"import mirror_agent; print('mirror-agent', mirror_agent.VERSION)\"",
      "",
    ].join("\n"),
  );
  return context;
}

function build(context: string, tag: string, via: string, extra: string[] = []) {
  suite.madeImages.push(tag);
  const args = ["build", context, "-t", tag, "--via", via, "--network", "host", "--progress", "plain", "--no-cache"];
  args.push("--build-arg", `BASE_IMAGE=${BASE}`, "--build-arg", "AGENT=sample", ...extra);
  return runCli(args, { env: hostEnv(), dropEnv: npmRunVariables });
}

/** The temporary HOME's npm and pip set-up, as a user's shell would give it (PIP_CONFIG_FILE: not /etc's). */
const hostEnv = () => ({
  HOME: home,
  NPM_CONFIG_USERCONFIG: join(home, ".npmrc"),
  PIP_CONFIG_FILE: join(home, ".config/pip/pip.conf"),
});
/** `npm test` hands its own npm_config_* (cafile, registry, userconfig, …) to what it starts: not the HOME's. */
const npmRunVariables = (name: string) => /^npm_config_/i.test(name);

/** A build that must succeed: its whole stderr when it did not. */
function succeeded(run: { exitCode: number; stderr: string }): void {
  if (run.exitCode !== 0) throw new Error(`build exited ${run.exitCode}:\n${run.stderr}`);
}

/** The image as `docker save` gives it (GET /images/{name}/get), whole. */
async function savedImage(tag: string): Promise<Buffer> {
  const stream = await client.stream("GET", `/images/${encodeURIComponent(tag)}/get`, { timeoutMs: 120_000 });
  return Buffer.from(await new Response(stream).arrayBuffer());
}

/** A piece of the CA's certificate as it would be stored: a line of its base64 body. */
function caFragment(): string {
  const lines = registry.caPem.split("\n").filter((line) => /^[A-Za-z0-9+/]{64}$/.test(line));
  return lines[Math.floor(lines.length / 2)]!;
}

// Podman builds with buildah through the API whichever way is asked (one notice says so).
const WAYS = ["api", "builder"];

describe(`RUN steps get the host's registry set-up (${ENGINE})`, () => {
  for (const via of WAYS) {
    test(`--via ${via}${PODMAN && via === "builder" ? " (the API on Podman)" : ""}: npm and pip install from the mirror only the host trusts; the image holds neither its CA nor a token`, async () => {
      const tag = `aicage-util-test/host-registries-${via}:${RUN}`;
      const run = await build(agentContext(), tag, via);
      succeeded(run);
      expect(run.stderr).toContain("plain-agent 0.9.7");
      expect(run.stderr).toContain("mirror-agent 0.3.5");
      expect(registry.requests.some((r) => r.path.endsWith("/plain-agent-0.9.7.tgz"))).toBe(true);
      const saved = await savedImage(tag);
      // The layers are searchable as they are: what the step installed is found in them.
      expect(saved.includes('console.log("plain-agent 0.9.7")')).toBe(true);
      expect({ ca: saved.includes(caFragment()), token: saved.includes(TOKEN) }).toEqual({ ca: false, token: false });
      // No npm configuration of ours (npm's own record of where a package came from may name the mirror).
      expect(saved.includes(`registry=${registry.npmUrl}`)).toBe(false);
      expect(run.stderr + run.stdout).not.toContain(TOKEN);
      const inspected = (await client.request("GET", `/images/${encodeURIComponent(tag)}/json`)) as {
        Config: { Env?: string[]; Labels?: Record<string, string> };
      };
      expect(JSON.stringify(inspected.Config)).not.toContain("aicage-host-setup");
    }, 300_000);
  }

  test("with the Dockerfile outside the context (-f), too", async () => {
    const context = agentContext();
    const outside = join(tempDir("aicage-outside-"), "Agent.Dockerfile");
    cpSync(join(context, "Dockerfile"), outside);
    const run = await build(context, `aicage-util-test/host-registries-f:${RUN}`, "api", ["-f", outside]);
    succeeded(run);
    expect(run.stderr).toContain("plain-agent 0.9.7");
  }, 300_000);

  test("--no-host-registries: the step cannot verify the mirror; the line names TLS and the switch", async () => {
    const run = await build(agentContext(), `aicage-util-test/host-registries-off:${RUN}`, "api", [
      "--no-host-registries",
    ]);
    expect(run.exitCode).toBe(1);
    const line = run.stderr.split("\n").find((l) => l.startsWith("[error] build of")) ?? "";
    expect(line).toContain("TLS verification failed: RUN steps did not get the host's CAs (--no-host-registries");
    expect(run.stderr).not.toContain(TOKEN);
  }, 300_000);

  test("--verbose and doctor name what RUN steps get, never a value", async () => {
    const run = await build(agentContext(), `aicage-util-test/host-registries-verbose:${RUN}`, "api", ["--verbose"]);
    succeeded(run);
    expect(run.stderr).toContain("host registry set-up forwarded: npm registry");
    expect(run.stderr).toContain(`host registry set-up forwarded: CA ${registry.caFile}`);
    expect(run.stderr).not.toContain(registry.npmUrl);
    expect(run.stderr).not.toContain(TOKEN);
    // doctor says the same of builds, in its report and its JSON.
    const doctor = await runCli(["doctor", "--json"], { env: hostEnv(), dropEnv: npmRunVariables });
    const buildSteps: Array<{ name: string }> = JSON.parse(doctor.stdout).hostRegistries.buildSteps;
    expect(buildSteps.map((s) => s.name)).toContainEqual(expect.stringContaining(`CA ${registry.caFile}`));
    expect(doctor.stdout).not.toContain(TOKEN);
    // Its own image is gone with the build.
    const left = (await client.request("GET", "/images/json")) as Array<{ RepoTags?: string[] }>;
    expect(left.flatMap((i) => i.RepoTags ?? []).filter((t) => t.includes("aicage-util-host-setup"))).toEqual([]);
  }, 300_000);
});

describe(`registry credentials in build steps, only when asked (${ENGINE})`, () => {
  /** An engine whose "host" network is a namespace of its own reaches one forwarded port only: the first registry's. */
  const sharesLoopback = !process.env.AICAGE_TEST_UPSTREAM_PORT;
  const GUARDED_TOKEN = `npm_guarded${RUN.replace(/[^a-z0-9]/g, "")}`;

  test("--forward-registry-credentials --via api: one notice that credentials need --via builder; the build goes on without", async () => {
    const tag = `aicage-util-test/host-registries-creds-api:${RUN}`;
    const run = await build(agentContext(), tag, "api", ["--forward-registry-credentials"]);
    succeeded(run);
    expect(run.stderr).toContain("[warn] registry credentials need --via builder");
    expect(run.stderr + run.stdout).not.toContain(TOKEN);
  }, 300_000);

  test(`--forward-registry-credentials --via builder: a registry that wants a token answers; the token shows nowhere${sharesLoopback && !PODMAN ? "" : " (here: the engine cannot reach a second registry, or has no builder container: refused without the token)"}`, async () => {
    const guarded = startLoopbackRegistry({
      npm: { "@mirror/agent": ["1.4.2"] },
      pip: {},
      auth: { bearer: GUARDED_TOKEN },
    });
    try {
      const context = agentContext();
      writeFileSync(
        join(context, "agents/sample/install.sh"),
        '#!/usr/bin/env bash\nset -euo pipefail\nnpm install --global --fetch-retries=0 --prefix "$HOME/agent" @mirror/agent\n"$HOME/agent/bin/agent"\n',
      );
      const guardedHome = tempDir("aicage-build-home-guarded-");
      writeFileSync(
        join(guardedHome, ".npmrc"),
        `@mirror:registry=${guarded.npmUrl}\n${guarded.npmUrl.replace(/^https:/, "")}:_authToken=${GUARDED_TOKEN}\ncafile=${guarded.caFile}\n`,
      );
      const env = { HOME: guardedHome, NPM_CONFIG_USERCONFIG: join(guardedHome, ".npmrc") };
      const tag = `aicage-util-test/host-registries-creds:${RUN}`;
      suite.madeImages.push(tag);
      const args = [
        "build",
        context,
        "-t",
        tag,
        "--via",
        "builder",
        "--network",
        "host",
        "--progress",
        "plain",
        "--no-cache",
      ];
      args.push("--build-arg", `BASE_IMAGE=${BASE}`, "--build-arg", "AGENT=sample");
      const withheld = await runCli(args, { env, dropEnv: npmRunVariables });
      expect(withheld.exitCode).toBe(1);
      const asked = await runCli([...args, "--forward-registry-credentials"], { env, dropEnv: npmRunVariables });
      expect(withheld.stdout + withheld.stderr + asked.stdout + asked.stderr).not.toContain(GUARDED_TOKEN);
      if (PODMAN) expect(asked.stderr).toContain("[warn] registry credentials need --via builder");
      if (!sharesLoopback || PODMAN) {
        expect(asked.exitCode).toBe(1);
        return;
      }
      // Reached, and refused for want of the token: it is the token that makes the difference.
      expect(withheld.stderr).toContain("E401");
      succeeded(asked);
      expect(asked.stderr).toContain("@mirror/agent 1.4.2");
      const log = readFileSync(/build log: (\S+)/.exec(asked.stderr)![1]!, "utf8");
      expect(log).not.toContain(GUARDED_TOKEN);
      const saved = await savedImage(tag);
      expect(saved.includes(GUARDED_TOKEN)).toBe(false);
      expect(saved.includes('console.log("@mirror/agent 1.4.2")')).toBe(true);
    } finally {
      guarded.stop();
    }
  }, 300_000);
});

/**
 * Issue 23: the credential forms the filters missed (an npm `key[]` array, proxies without a
 * scheme, a token in a query string) reach no RUN step without --forward-registry-credentials;
 * with it (--via builder) they do, and the step's output that prints them shows none of them.
 * The step counts the lines of its environment and of the set-up's files that hold the marker.
 */
describe(`credentials in every form, in build steps (issue 23) (${ENGINE})`, () => {
  const MARKER = `forms-Secret-${RUN}`;
  const formsHome = tempDir("aicage-build-home-forms-");
  writeSecretFormsHome(formsHome, MARKER);
  const env = {
    HOME: formsHome,
    NPM_CONFIG_USERCONFIG: join(formsHome, ".npmrc"),
    PIP_CONFIG_FILE: join(formsHome, ".config/pip/pip.conf"),
    PIP_EXTRA_INDEX_URL: `https://pypi.corp.example/extra/?key=${MARKER}-7`,
  };
  /** Prints what the step got (no CA file), then how many lines hold the marker (written in two pieces: the step's name shows it), and fails. */
  const context = () => {
    const dir = join(tempDir("aicage-build-forms-"), "context");
    mkdirSync(dir);
    const [head, tail] = [MARKER.slice(0, 8), MARKER.slice(8)];
    writeFileSync(
      join(dir, "Dockerfile"),
      [
        "ARG FROM_IMAGE",
        "FROM ${FROM_IMAGE}",
        `RUN { env; find /run/aicage-host-setup /run/aicage-host-secrets -type f ! -name '*.pem' -exec cat {} +; } > /tmp/seen 2>/dev/null; cat /tmp/seen; echo "found $(grep -c '${head}''${tail}' /tmp/seen)"; exit 7`,
        "",
      ].join("\n"),
    );
    return dir;
  };
  const build = (extra: string[]) =>
    runCli(
      [
        ...["build", context(), "-t", `aicage-util-test/forms:${RUN}`, "--via", "builder", "--network", "none"],
        ...["--build-arg", `FROM_IMAGE=${BASE_IMAGE}`, "--progress", "plain", "--no-cache", ...extra],
      ],
      { env, dropEnv: npmRunVariables },
    );
  const found = (stderr: string) => Number(/found (\d+)/.exec(stderr)?.[1]);

  test("without the opt-in no step gets them; with it the step gets them and its output shows none", async () => {
    const withheld = await build([]);
    expect(withheld.exitCode).toBe(1);
    expect(found(withheld.stderr)).toBe(0);
    const asked = await build(["--forward-registry-credentials", "--json"]);
    expect(asked.exitCode).toBe(1);
    const log = readFileSync(JSON.parse(asked.stdout).error.logFile, "utf8");
    // npm: registry, @corp:registry, https-proxy, @team:registry; pip: proxy, index-url, extra-index-url.
    if (!PODMAN) expect(Number(/found (\d+)/.exec(log)?.[1])).toBeGreaterThanOrEqual(7);
    for (const text of [withheld.stdout, withheld.stderr, asked.stdout, asked.stderr, log])
      expect(text).not.toContain(MARKER);
  }, 300_000);
});
