// The host's real npm and pip, each in a temporary HOME configured the way a company
// configures them for its mirror, answer through the loopback registry; and the files
// hostRegistrySetup() makes from that HOME work for the same npm and pip in another
// HOME (what the check container will get). No engine needed.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { networkFailureHint } from "../../src/host-registries/network-failure-hint.ts";
import { type HostRegistrySetup, hostRegistrySetup } from "../../src/host-registries/setup.ts";
import { tempDir } from "../helpers/engine.ts";
import { LOOPBACK_PACKAGES, type LoopbackRegistry, startLoopbackRegistry } from "../helpers/loopback-registry.ts";

// npm and pip start slowly on a loaded 2-core machine: more than bun's default 5 s per test.
const TIMEOUT = 60_000;
const TOKEN = "loopback-Tok3n-value";
const PIP_USER = { username: "builder", password: "pip-Passw0rd-value" };
let open: LoopbackRegistry;
let guarded: LoopbackRegistry;

beforeAll(() => {
  open = startLoopbackRegistry();
  guarded = startLoopbackRegistry({ auth: { bearer: TOKEN, basic: PIP_USER } });
});
afterAll(() => {
  open?.stop();
  guarded?.stop();
});

/** The machine's environment minus everything that configures npm, pip or TLS. */
function cleanEnv(home: string): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH!, HOME: home, LANG: "C.UTF-8" };
  if (process.env.PYENV_ROOT) env.PYENV_ROOT = process.env.PYENV_ROOT;
  // /etc/xdg/pip/pip.conf may name host paths; /etc/pip.conf and npm's global npmrc still count.
  env.XDG_CONFIG_DIRS = "/nonexistent";
  env.PIP_DISABLE_PIP_VERSION_CHECK = "1";
  env.NPM_CONFIG_UPDATE_NOTIFIER = "false";
  return env;
}

function writeHome(files: Record<string, string>): string {
  const home = tempDir("aicage-home-");
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(home, path)), { recursive: true });
    writeFileSync(join(home, path), content);
  }
  return home;
}

async function run(argv: string[], env: Record<string, string>) {
  // Async: the registry answers from this process, so a blocking spawn would never finish.
  const proc = Bun.spawn(argv, { env, cwd: env.HOME, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, exitCode };
}

const npmView = (pkg: string, env: Record<string, string>) => run(["npm", "view", pkg, "version"], env);
const pipVersions = (pkg: string, env: Record<string, string>) =>
  run(["python3", "-m", "pip", "index", "versions", pkg], env);
const [SCOPED, PLAIN] = Object.keys(LOOPBACK_PACKAGES.npm) as [string, string];
const latest = (versions: string[]) => versions[versions.length - 1]!;

describe("host npm and pip through the loopback registry", () => {
  test(
    "npm answers scoped and plain packages through the mirror with its CA",
    async () => {
      const home = writeHome({ ".npmrc": `registry=${open.npmUrl}\ncafile=${open.caFile}\n` });
      const scoped = await npmView(SCOPED, cleanEnv(home));
      expect(scoped).toMatchObject({
        exitCode: 0,
        stdout: `${latest(LOOPBACK_PACKAGES.npm[SCOPED as "@mirror/agent"])}\n`,
      });
      const plain = await npmView(PLAIN, cleanEnv(home));
      expect(plain).toMatchObject({
        exitCode: 0,
        stdout: `${latest(LOOPBACK_PACKAGES.npm[PLAIN as "plain-agent"])}\n`,
      });
      expect(open.requests.map((r) => r.path)).toContain("/npm/@mirror%2fagent");
    },
    TIMEOUT,
  );

  test(
    "npm without the mirror's CA fails TLS verification",
    async () => {
      const home = writeHome({ ".npmrc": `registry=${open.npmUrl}\nfetch-retries=0\n` });
      const result = await npmView(SCOPED, cleanEnv(home));
      expect(result.exitCode).not.toBe(0);
      expect(networkFailureHint(result.stderr, false)).toBe("TLS verification failed: unknown CA");
    },
    TIMEOUT,
  );

  test(
    "pip answers through the mirror with its CA",
    async () => {
      const home = writeHome({
        ".config/pip/pip.conf": `[global]\nindex-url = ${open.pipUrl}\ncert = ${open.caFile}\n`,
      });
      const result = await pipVersions("mirror-agent", cleanEnv(home));
      expect(result.exitCode).toBe(0);
      expect(result.stdout.split("\n")[0]).toBe(`mirror-agent (${latest(LOOPBACK_PACKAGES.pip["mirror-agent"])})`);
      expect(open.requests.some((r) => r.path === "/pypi/simple/mirror-agent/")).toBe(true);
    },
    TIMEOUT,
  );

  test(
    "a registry that demands a token: npm with _authToken answers, without it gets 401",
    async () => {
      const nerf = guarded.npmUrl.replace(/^https:/, "");
      const withToken = writeHome({
        ".npmrc": `registry=${guarded.npmUrl}\ncafile=${guarded.caFile}\n${nerf}:_authToken=${TOKEN}\n`,
      });
      expect(await npmView(SCOPED, cleanEnv(withToken))).toMatchObject({ exitCode: 0, stdout: "1.4.2\n" });
      const without = writeHome({ ".npmrc": `registry=${guarded.npmUrl}\ncafile=${guarded.caFile}\n` });
      const refused = await npmView(SCOPED, cleanEnv(without));
      expect(refused.exitCode).not.toBe(0);
      expect(networkFailureHint(refused.stderr, false)).toBe("the registry asked for credentials (HTTP 401)");
      expect(guarded.requests.filter((r) => r.authScheme === "bearer").every((r) => r.authorized)).toBe(true);
    },
    TIMEOUT,
  );

  test(
    "pip with the user and password in its index URL answers",
    async () => {
      const url = guarded.pipUrl.replace("https://", `https://${PIP_USER.username}:${PIP_USER.password}@`);
      const home = writeHome({ ".config/pip/pip.conf": `[global]\nindex-url = ${url}\ncert = ${guarded.caFile}\n` });
      const result = await pipVersions("mirror-agent", cleanEnv(home));
      expect(result.exitCode).toBe(0);
      expect(result.stdout.split("\n")[0]).toBe("mirror-agent (0.3.5)");
    },
    TIMEOUT,
  );
});

describe("the set-up hostRegistrySetup() reads from a HOME works for npm and pip elsewhere", () => {
  /** Lays the setup's files into a fresh HOME (as its container home) and builds the CA bundle there. */
  async function applyElsewhere(setup: (containerHome: string) => HostRegistrySetup) {
    const target = tempDir("aicage-target-home-");
    const result = setup(target);
    for (const file of result.files) {
      mkdirSync(dirname(file.path), { recursive: true });
      writeFileSync(file.path, file.content, { mode: file.mode });
    }
    const env = cleanEnv(target);
    if (result.prepareScript) {
      const prepared = await run(["bash", "-c", result.prepareScript], env);
      expect(prepared).toMatchObject({ exitCode: 0, stderr: "" });
    }
    for (const pair of result.env) {
      const at = pair.indexOf("=");
      env[pair.slice(0, at)] = pair.slice(at + 1);
    }
    return { result, env };
  }

  const hostHome = () =>
    writeHome({
      ".npmrc": `@mirror:registry=${guarded.npmUrl}\n${guarded.npmUrl.replace(/^https:/, "")}:_authToken=${TOKEN}\n`,
      ".config/pip/pip.conf": `[global]\nindex-url = ${guarded.pipUrl.replace("https://", `https://${PIP_USER.username}:${PIP_USER.password}@`)}\n`,
    });

  test(
    "with credentials forwarded, npm and pip answer through the mirror, trusting its CA",
    async () => {
      const home = hostHome();
      const { result, env } = await applyElsewhere((containerHome) =>
        hostRegistrySetup({
          env: { ...cleanEnv(home), NODE_EXTRA_CA_CERTS: guarded.caFile },
          forwardCredentials: true,
          containerHome,
        }),
      );
      expect(result.withheld).toEqual([]);
      expect(await npmView(SCOPED, env)).toMatchObject({ exitCode: 0, stdout: "1.4.2\n" });
      const pip = await pipVersions("mirror-agent", env);
      expect(pip.exitCode).toBe(0);
      expect(pip.stdout.split("\n")[0]).toBe("mirror-agent (0.3.5)");
    },
    TIMEOUT,
  );

  test(
    "by default the token and the password stay home: the registry refuses, and neither appears anywhere",
    async () => {
      const home = hostHome();
      const { result, env } = await applyElsewhere((containerHome) =>
        hostRegistrySetup({ env: { ...cleanEnv(home), NODE_EXTRA_CA_CERTS: guarded.caFile }, containerHome }),
      );
      expect(result.withheld.map((w) => w.name)).toEqual([
        `npm ${guarded.npmUrl.replace(/^https:/, "")}:_authToken`,
        "pip global.index-url",
      ]);
      const all = JSON.stringify({ ...result, files: result.files.map((f) => new TextDecoder().decode(f.content)) });
      expect(all).not.toContain(TOKEN);
      expect(all).not.toContain(PIP_USER.password);
      const npm = await npmView(SCOPED, env);
      expect(networkFailureHint(npm.stderr, false)).toBe("the registry asked for credentials (HTTP 401)");
    },
    TIMEOUT,
  );
});
