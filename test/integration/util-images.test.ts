import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toolVersion } from "../../src/core/tool-info.ts";
import { findImage, inspectImage, removeImage, tagImage } from "../../src/docker/images.ts";
import { runContainer } from "../../src/workloads/run-container.ts";
import { engineVersion } from "../../src/docker/system.ts";
import { DOCKERFILE_HASH_LABEL, MANAGED_LABEL, managedLabels } from "../../src/core/labels.ts";
import { dockerfileHash } from "../../src/util-images/catalog.ts";
import { type EnsureOptions, ensureUtilImage } from "../../src/util-images/ensure.ts";
import {
  BASE_IMAGE,
  BUN,
  CLI_TEST_ENV,
  REPO_ROOT,
  SOCKET,
  leakWatch,
  runCli,
  tempDir,
  testClient,
} from "../helpers/engine.ts";

const client = testClient();
let versionCheckImage = "";
let builderImage = "";
let watch: Awaited<ReturnType<typeof leakWatch>>;
const createdTags: string[] = [];
/** Images that lost their tag to a later build: removed by ID. */
const createdIds: string[] = [];

beforeAll(async () => {
  watch = await leakWatch(client);
  const options = { baseImage: BASE_IMAGE, network: "host" };
  versionCheckImage = (await ensureUtilImage(client, "version-check", options)).id;
  builderImage = (await ensureUtilImage(client, "builder", options)).id;
}, 900_000);

afterAll(async () => {
  for (const tag of createdTags) await removeImage(client, tag, { force: true }).catch(() => undefined);
  for (const id of createdIds) await removeImage(client, id, { force: true }).catch(() => undefined);
  expect(await watch.leaked()).toEqual([]);
});

const run = (image: string, script: string, hostConfig: Record<string, unknown> = {}, user?: string) =>
  runContainer(
    client,
    {
      Image: image,
      Cmd: ["bash", "-c", script],
      User: user,
      Labels: managedLabels(),
      HostConfig: { NetworkMode: "none", ...hostConfig },
    },
    { timeoutMs: 120_000 },
  );

describe("the version-check image", () => {
  test("every tool a version.sh may need answers, as the non-root user", async () => {
    const tools = [
      "bash --version",
      "curl --version",
      "git --version",
      "jq --version",
      "node --version",
      "npm --version",
      "python3 --version",
      "python3 -m pip --version",
      "python3 -m venv --help",
      "tar --version",
      "gzip --version",
      "unzip -v",
      "xz --version",
    ];
    const script = `set -e; id -u; id -g; echo "$HOME"; touch "$HOME/w"; ${tools.map((t) => `${t} >/dev/null && echo ok`).join("; ")}`;
    const result = await run(versionCheckImage, script);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim().split("\n")).toEqual(["10001", "10001", "/home/aicage", ...tools.map(() => "ok")]);
  });

  test("it runs with every capability dropped, no-new-privileges and pid/memory limits", async () => {
    const result = await run(
      versionCheckImage,
      "node -e 'console.log(1)' && python3 -c 'print(2)' && npm config get cache",
      {
        CapDrop: ["ALL"],
        SecurityOpt: ["no-new-privileges"],
        PidsLimit: 256,
        Memory: 512 * 1024 * 1024,
      },
    );
    expect([result.exitCode, result.stdout]).toEqual([0, "1\n2\n/home/aicage/.npm\n"]);
  });

  test("labels say what it is and which Dockerfile made it", async () => {
    const labels = (await inspectImage(client, versionCheckImage)).Config?.Labels ?? {};
    expect(labels["org.aicage.util.kind"]).toBe("version-check");
    expect(labels[DOCKERFILE_HASH_LABEL]).toBe(dockerfileHash("version-check"));
    expect(labels["org.opencontainers.image.version"]).toBe(toolVersion);
    expect(labels["org.opencontainers.image.source"]).toBe("https://github.com/aicage/aicage-image-util");
    expect(labels[MANAGED_LABEL]).toBe("true");
  });
});

describe("the builder image", () => {
  test("every tool a build needs answers", async () => {
    const tools = [
      "bash --version",
      "docker --version",
      "docker buildx version",
      "git --version",
      "curl --version",
      "python3 --version",
      "python3 -m pip --version",
      "tar --version",
    ];
    const result = await run(builderImage, `set -e; ${tools.map((t) => `${t} >/dev/null && echo ok`).join("; ")}`);
    expect(result.stderr).toBe("");
    expect(result.stdout.trim().split("\n")).toEqual(tools.map(() => "ok"));
  });
});

describe("what both util images leave out (issue 22)", () => {
  /** Size goals over the base image, in bytes (docker's MB: 10^6). */
  const GOALS = { "version-check": 250e6, builder: 200e6 };
  let basePackages = "";

  beforeAll(async () => {
    const listed = await run(BASE_IMAGE, "dpkg-query -W -f '${Package}\\n'");
    expect(listed.exitCode).toBe(0);
    basePackages = listed.stdout;
  });

  // Every package the image adds to its base: none brought documentation (copyright files aside),
  // man or info pages, translations; none is a development package; apt keeps no lists or
  // downloaded packages.
  const contentsScript = (base: string) => `
    set -euo pipefail
    printf '%s' '${base}' | sort >/tmp/base
    dpkg-query -W -f '\${Package}\\n' | sed 's/:.*//' | sort >/tmp/all
    comm -13 /tmp/base /tmp/all >/tmp/added
    [ -s /tmp/added ] || { echo "no package added to the base?"; exit 1; }
    while read -r pkg; do
      dpkg -L "$pkg" 2>/dev/null | while read -r f; do
        case $f in
          /usr/share/doc/*/copyright) ;;
          /usr/share/doc/*|/usr/share/man/*|/usr/share/info/*|/usr/share/locale/*)
            # A symlink (to a licence in /usr/share/common-licenses, a script elsewhere) costs nothing.
            if [ -f "$f" ] && [ ! -L "$f" ]; then echo "shipped: $f ($pkg)"; fi ;;
        esac
      done
    done </tmp/added
    grep -E -- '-dev$' /tmp/all | sed 's/^/dev package: /' || true
    find /var/lib/apt/lists /var/cache/apt -type f 2>/dev/null | sed 's/^/apt cache: /'
    # git as a client keeps working: a clone and ls-remote (local here: no network), https helper.
    git init -q /tmp/repo && git -C /tmp/repo -c user.name=t -c user.email=t@t commit -q --allow-empty -m x
    git clone -q /tmp/repo /tmp/clone && git ls-remote /tmp/repo >/dev/null
    [ -x /usr/lib/git-core/git-remote-https ] || echo "no git-remote-https"
    echo checked`;

  for (const kind of ["version-check", "builder"] as const) {
    test(`${kind}: no docs, man pages, locales, development packages or apt caches; within its size goal`, async () => {
      const image = kind === "version-check" ? versionCheckImage : builderImage;
      const result = await run(image, contentsScript(basePackages), {}, "0");
      expect(result.stderr).toBe("");
      expect(result.stdout.trim().split("\n")).toEqual(["checked"]);
      const over = (await inspectImage(client, image)).Size - (await inspectImage(client, BASE_IMAGE)).Size;
      expect(over).toBeLessThanOrEqual(GOALS[kind]);
    });
  }

  test("version-check: npm runs package scripts without node-gyp, which says in one line that it is a stub", async () => {
    const result = await run(
      versionCheckImage,
      `set -e; cd "$(mktemp -d)"; echo '{"name":"x","version":"1.0.0","scripts":{"hi":"echo ran"}}' >package.json
       npm run -s hi; node /usr/share/nodejs/node-gyp/bin/node-gyp.js rebuild 2>&1 || echo "exit $?"`,
    );
    expect(result.stdout.trim().split("\n")).toEqual([
      "ran",
      "node-gyp: this aicage version-check image builds no native addons (node-gyp is a stub)",
      "exit 1",
    ]);
  });
});

describe("the builder image with the host socket mounted", () => {
  const withSocket = (context: string) => ({
    Binds: [`${SOCKET}:/var/run/docker.sock`, `${context}:/ctx:ro`],
    NetworkMode: "host",
  });

  function tinyContext(marker: string): string {
    const dir = tempDir("aicage-ctx-");
    writeFileSync(join(dir, "payload.txt"), `${marker}\n`);
    writeFileSync(
      join(dir, "Dockerfile"),
      `ARG BASE_IMAGE\nFROM \${BASE_IMAGE}\nCOPY payload.txt /payload.txt\nRUN cat /payload.txt > /copied.txt\n`,
    );
    return dir;
  }

  test("docker version reaches the host engine", async () => {
    const result = await run(builderImage, "docker version --format '{{.Server.Version}}'", withSocket(tmpdir()));
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe((await engineVersion(client)).Version);
  });

  for (const [way, command] of [
    ["classic build", "DOCKER_BUILDKIT=0 docker build --network host"],
    ["buildx build", "docker buildx build --network host --load"],
  ] as const) {
    test(`a ${way} of a tiny context produces an image visible on the host`, async () => {
      const tag = `aicage-util-test/builder-${way.split(" ")[0]}:${process.pid}`;
      createdTags.push(tag);
      const marker = `made by ${way} ${Date.now()}`;
      const script = `${command} --build-arg BASE_IMAGE=${BASE_IMAGE} --label ${MANAGED_LABEL}=true -t ${tag} /ctx`;
      const result = await run(builderImage, script, withSocket(tinyContext(marker)));
      if (result.exitCode !== 0) throw new Error(`${way} failed:\n${result.stdout}\n${result.stderr}`);
      expect(await findImage(client, tag)).toBeDefined();
      const check = await run(tag, "cat /copied.txt");
      expect(check.stdout).toBe(`${marker}\n`);
    });
  }
});

describe("ensure", () => {
  test("absent and not pullable: built locally; again: reused; made from another Dockerfile: rebuilt", async () => {
    const repository = `aicage-util-test/ensure-${process.pid}`;
    const tag = `${repository}:version-check-${toolVersion}`;
    createdTags.push(tag);
    const notices: string[] = [];
    const options: EnsureOptions = {
      repository,
      baseImage: BASE_IMAGE,
      network: "host",
      report: (event) => void (event.type === "notice" && notices.push(event.message)),
    };

    const first = await ensureUtilImage(client, "version-check", options);
    createdIds.push(first.id);
    expect(first.action).toBe("built");
    expect(notices.at(-1)).toContain(`could not pull ${tag}`);

    const second = await ensureUtilImage(client, "version-check", options);
    expect(second).toMatchObject({ action: "present", id: first.id });

    // An image under the tag that this Dockerfile did not make (an older release's, say).
    await tagImage(client, BASE_IMAGE, tag);
    const third = await ensureUtilImage(client, "version-check", options);
    expect(third.action).toBe("built");
    expect(third.id).not.toBe((await inspectImage(client, BASE_IMAGE)).Id);
    expect((await inspectImage(client, tag)).Config?.Labels?.[DOCKERFILE_HASH_LABEL]).toBe(
      dockerfileHash("version-check"),
    );
  }, 600_000);

  test("twenty concurrent ensures share one pull-or-build", async () => {
    const repository = `aicage-util-test/ensure-many-${process.pid}`;
    createdTags.push(`${repository}:version-check-${toolVersion}`);
    let pulls = 0;
    const options: EnsureOptions = {
      repository,
      baseImage: BASE_IMAGE,
      network: "host",
      report: (event) => void (event.type === "notice" && event.message.startsWith("pulling") && pulls++),
    };
    const all = await Promise.all(Array.from({ length: 20 }, () => ensureUtilImage(client, "version-check", options)));
    expect(new Set(all.map((e) => e.id)).size).toBe(1);
    expect(pulls).toBe(1);
  }, 600_000);
});

describe("a util image build that fails", () => {
  // A base image whose apt-get fails as a broken mirror makes it fail: both util images. first
  // RUN step (a long one, apt-get update and install) ends with exit code 100 and apt's words.
  const failingBase = `aicage-util-test/failing-apt-${process.pid}:1`;
  const repository = `aicage-util-test/failing-${process.pid}`;
  const APT_ERROR = "E: Failed to fetch http://mirror.invalid/InRelease (a test's apt-get)";

  beforeAll(async () => {
    const dir = tempDir("aicage-failing-apt-");
    writeFileSync(
      join(dir, "apt-get"),
      `#!/bin/sh\necho "Reading package lists..."\necho "${APT_ERROR}" >&2\nexit 100\n`,
    );
    chmodSync(join(dir, "apt-get"), 0o755);
    writeFileSync(join(dir, "Dockerfile"), "ARG FROM_IMAGE\nFROM ${FROM_IMAGE}\nCOPY apt-get /usr/local/bin/apt-get\n");
    createdTags.push(failingBase);
    const made = await runCli([
      "build",
      dir,
      "-t",
      failingBase,
      "--via",
      "api",
      "--network",
      "none",
      "--build-arg",
      `FROM_IMAGE=${BASE_IMAGE}`,
    ]);
    if (made.exitCode !== 0) throw new Error(`the failing base image could not be built:\n${made.stderr}`);
  }, 300_000);

  /** What a line must say: the tag, the step cut short, the exit code, the step's own last line. */
  const expectShortLine = (line: string, kind: string) => {
    expect(line.length).toBeLessThan(300);
    expect(line).toContain(`build of ${repository}:${kind}-${toolVersion} failed at step [3/`);
    expect(line).toMatch(/\] RUN [^…]*… \(exit code 100\): /);
    expect(line).toContain(APT_ERROR);
    // The RUN command is not in the line, let alone twice: only its start.
    expect(line).not.toContain("python3-pip");
  };

  /** The build's words in "… and the local build failed (<them>); … instead". */
  const buildPartOf = (warning: string) =>
    warning.slice(warning.indexOf("failed (build of ") + "failed (".length, warning.lastIndexOf("); "));

  for (const kind of ["version-check", "builder"]) {
    test(`images build ${kind}: exit 1, the last line short, with the step, exit code 100 and apt's last line`, async () => {
      createdTags.push(`${repository}:${kind}-${toolVersion}`);
      const args = [
        "images",
        "build",
        kind,
        "--repository",
        repository,
        "--base-image",
        failingBase,
        "--network",
        "none",
      ];
      const { exitCode, stderr } = await runCli(args);
      expect(exitCode).toBe(1);
      const last = stderr.trim().split("\n").at(-1)!;
      expect(last).toStartWith("[error] build of ");
      expectShortLine(last, kind);
      expect(await findImage(client, `${repository}:${kind}-${toolVersion}`)).toBeUndefined();
    }, 300_000);
  }

  test("the automatic build behind a version check: one short warning line, then the host answers", async () => {
    const args = [
      "version-check",
      join(REPO_ROOT, "examples", "agents", "pinned-agent"),
      "--repository",
      repository,
      "--base-image",
      failingBase,
      "--build-network",
      "none",
    ];
    const { exitCode, stderr, stdout } = await runCli(args);
    expect(exitCode).toBe(0);
    expect(stdout).toContain("host");
    const warning = stderr.split("\n").find((line) => line.includes("the local build failed"))!;
    expect(warning).toMatch(
      /^\[warn\] the version-check image is not available: pull failed \(.*\) and the local build failed \(build of /,
    );
    expect(warning).toEndWith("; version checks run on the host instead");
    // The pull's own words are the engine's; the build's part is short.
    expectShortLine(buildPartOf(warning), "version-check");
  }, 300_000);

  test("the automatic build behind `build --via builder`: one short warning line; the build's log has the whole step and reason", async () => {
    const dir = tempDir("aicage-after-builder-");
    writeFileSync(join(dir, "Dockerfile"), "ARG FROM_IMAGE\nFROM ${FROM_IMAGE}\nRUN echo built-through-the-api\n");
    const tag = `aicage-util-test/after-builder-${process.pid}:1`;
    createdTags.push(tag);
    const args = [
      "build",
      dir,
      "-t",
      tag,
      "--via",
      "builder",
      "--network",
      "none",
      "--build-arg",
      `FROM_IMAGE=${BASE_IMAGE}`,
      "--repository",
      repository,
      "--base-image",
      failingBase,
      "--build-network",
      "none",
    ];
    const { exitCode, stderr } = await runCli(args);
    expect(exitCode).toBe(0);
    const warning = stderr.split("\n").find((line) => line.includes("the local build failed"))!;
    expect(warning).toEndWith("; building through the Engine API instead (--via api)");
    expectShortLine(buildPartOf(warning), "builder");
    const log = readFileSync(/build log: (\S+)/.exec(stderr)![1]!, "utf8");
    // The whole step (its package list) and the builder's whole reason.
    expect(log).toMatch(/^# builder image build failed at step \[3\/\d+\] RUN .*python3-pip.*: .*exit code: 100$/m);
  }, 300_000);
});

describe("aicage-util images, compiled, outside the repository", () => {
  test("images build, ls and rm work from the compiled binary in another folder", async () => {
    const outside = tempDir("aicage-outside-");
    const binary = join(outside, "aicage-util");
    const compile = Bun.spawnSync([BUN, "build", "--compile", `${REPO_ROOT}/src/cli.ts`, "--outfile", binary], {
      cwd: REPO_ROOT,
    });
    expect(compile.exitCode).toBe(0);
    const repository = `aicage-util-test/compiled-${process.pid}`;
    createdTags.push(`${repository}:builder-${toolVersion}`);
    const env = { ...process.env, ...CLI_TEST_ENV };
    const exec = (args: string[]) =>
      Bun.spawnSync([binary, ...args], { cwd: outside, env, stdout: "pipe", stderr: "pipe" });

    const built = exec([
      "images",
      "build",
      "builder",
      "--repository",
      repository,
      "--network",
      "host",
      "--base-image",
      BASE_IMAGE,
      "--json",
    ]);
    expect([built.exitCode, built.stderr.toString()]).toEqual([0, ""]);
    const [image] = JSON.parse(built.stdout.toString()).images;
    expect(image).toMatchObject({ kind: "builder", tag: `${repository}:builder-${toolVersion}` });

    const listed = exec(["images", "ls", "--repository", repository, "--json"]);
    const rows = JSON.parse(listed.stdout.toString()).images;
    expect(rows.find((r: any) => r.expected && r.kind === "builder")).toMatchObject({
      present: true,
      current: true,
      id: image.id,
    });

    const removed = exec(["images", "rm", "builder", "--repository", repository, "--json"]);
    expect(JSON.parse(removed.stdout.toString()).removed).toEqual([`${repository}:builder-${toolVersion}`]);
    expect(await findImage(client, `${repository}:builder-${toolVersion}`)).toBeUndefined();
  }, 600_000);

  test("an unknown kind is a usage error", async () => {
    const proc = Bun.spawnSync([BUN, `${REPO_ROOT}/src/cli.ts`, "images", "build", "compiler"], {
      env: { ...process.env, ...CLI_TEST_ENV },
    });
    expect(proc.exitCode).toBe(2);
    expect(proc.stderr.toString()).toContain("unknown image kind 'compiler'; use version-check or builder");
  });
});
