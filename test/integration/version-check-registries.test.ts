// The image attempt gets the host's registry set-up (issue 10): a mirror with its own CA on
// loopback, npm and pip on the host pointed at it by their config in a temporary HOME, real
// npm and pip in the version-check image. Without forwarding the image fails and says why;
// with it the image answers what the host answers; the CA that npm names counts for curl and
// git in the image too; a token stays home unless asked for and never shows anywhere.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli, tempDir } from "../helpers/engine.ts";
import { LOOPBACK_PACKAGES, type LoopbackRegistry, startLoopbackRegistry } from "../helpers/loopback-registry.ts";
import { writeSecretFormsHome } from "../helpers/secret-forms.ts";
import { engineSuite } from "../helpers/suite.ts";

const TOKEN = "cli-T0ken-never-printed";
let open: LoopbackRegistry;
let guarded: LoopbackRegistry;
let home: string;
let agents: string;
/** agents that ask the mirror with curl + jq and with git ls-remote */
let toolAgents: string;

beforeAll(async () => {
  open = startLoopbackRegistry();
  guarded = startLoopbackRegistry({ auth: { bearer: TOKEN } });
  home = tempDir("aicage-home-");
  writeFileSync(join(home, "corp-cas.pem"), open.caPem + guarded.caPem);
  const npmrc = [
    `registry=${open.npmUrl}`,
    `@mirror:registry=${guarded.npmUrl}`,
    `${guarded.npmUrl.replace(/^https:/, "")}:_authToken=${TOKEN}`,
    `cafile=${home}/corp-cas.pem`,
  ];
  writeFileSync(join(home, ".npmrc"), `${npmrc.join("\n")}\n`);
  mkdirSync(join(home, ".config/pip"), { recursive: true });
  writeFileSync(
    join(home, ".config/pip/pip.conf"),
    `[global]\nindex-url = ${open.pipUrl}\ncert = ${home}/corp-cas.pem\n`,
  );
  agents = tempDir("aicage-agents-");
  const scripts: Record<string, string> = {
    "npm-open": "npm view plain-agent version",
    "npm-token": "npm view @mirror/agent version",
    "pip-open": "python3 -m pip index versions mirror-agent | sed -n '1s/^[^(]*(\\([^)]*\\)).*$/\\1/p'",
  };
  const toolScripts: Record<string, string> = {
    "curl-release": `curl -fsS ${open.origin}/api/latest | jq -r .tag_name | sed 's/^v//'`,
    "git-tags": `git ls-remote --tags ${open.origin}/git/agent.git | sed -n 's#.*refs/tags/v##p' | sort -V | tail -n 1`,
  };
  toolAgents = tempDir("aicage-tool-agents-");
  for (const [folder, entries] of [
    [agents, scripts],
    [toolAgents, toolScripts],
  ] as const) {
    for (const [name, body] of Object.entries(entries)) {
      mkdirSync(join(folder, name), { mode: 0o755 });
      writeFileSync(join(folder, name, "version.sh"), `set -euo pipefail\n${body}\n`, { mode: 0o644 });
    }
  }
}, 600_000);

afterAll(() => {
  open?.stop();
  guarded?.stop();
});
// Registered after the registries' stop, so its leak check runs once their CA folders are gone.
engineSuite(["version-check"]);

/** Only this HOME's set-up counts: the machine's own CA variables and pip settings are blanked. */
const env = (extra: Record<string, string> = {}) => ({
  HOME: home,
  XDG_CONFIG_HOME: join(home, ".config"),
  XDG_CONFIG_DIRS: "/nonexistent",
  NPM_CONFIG_GLOBALCONFIG: "/nonexistent/npmrc",
  PIP_CONFIG_FILE: "",
  SSL_CERT_FILE: "",
  SSL_CERT_DIR: "",
  NODE_EXTRA_CA_CERTS: "",
  REQUESTS_CA_BUNDLE: "",
  CURL_CA_BUNDLE: "",
  GIT_SSL_CAINFO: "",
  PIP_CERT: "",
  PIP_FIND_LINKS: "",
  ...extra,
});

/** `npm test` hands its own npm_config_* (registry, userconfig, …) to everything it starts: not the HOME's. */
const npmRunVariables = (name: string) => /^npm_config_/i.test(name);

const byAgent = (stdout: string) => Object.fromEntries(JSON.parse(stdout).results.map((r: any) => [r.agent, r]));

describe("the host's registry set-up in the image attempt", () => {
  test("without forwarding the image fails and says why; the host answers", async () => {
    const run = await runCli(["version-check", "--agents", agents, "--json", "--network", "host", "--timeout", "25"], {
      env: env({ AICAGE_UTIL_HOST_REGISTRIES: "0" }),
      dropEnv: npmRunVariables,
    });
    const results = byAgent(run.stdout);
    for (const name of ["npm-open", "pip-open"]) {
      expect(results[name]).toMatchObject({ ok: true, source: "host" });
      expect(results[name].attempts[0]).toMatchObject({ source: "image", ok: false });
      // The image knows neither the mirror nor its CA: it tries the public registry, which this
      // machine's network does not give it (a TLS-inspecting proxy, no DNS): it says which.
      expect(results[name].attempts[0].error).toMatch(
        /\((TLS verification failed[^)]*|name resolution failed|connection refused|could not connect)\)$/,
      );
    }
  }, 120_000);

  test("by default the image answers what the host answers; the token stays home", async () => {
    const before = guarded.requests.length;
    const run = await runCli(["version-check", "--agents", agents, "--json", "--network", "host", "--timeout", "25"], {
      env: env(),
      dropEnv: npmRunVariables,
    });
    const results = byAgent(run.stdout);
    expect(results["npm-open"]).toMatchObject({ source: "image", version: "0.9.7" });
    expect(results["pip-open"]).toMatchObject({ source: "image", version: "0.3.5" });
    // The guarded package: refused in the image (credentials withheld), answered on the host.
    expect(results["npm-token"]).toMatchObject({ source: "host", version: "1.4.2" });
    expect(results["npm-token"].attempts[0].error).toContain("(the registry asked for credentials (HTTP 401))");
    const sent = guarded.requests.slice(before).filter((r) => r.authScheme === "bearer");
    expect(sent.length).toBeGreaterThan(0);
    expect(guarded.requests.slice(before).filter((r) => r.authorized).length).toBe(sent.length);
  }, 120_000);

  for (const [how, flags, extra] of [
    ["--forward-registry-credentials", ["--forward-registry-credentials"], {}],
    ["AICAGE_UTIL_FORWARD_REGISTRY_CREDENTIALS=1", [], { AICAGE_UTIL_FORWARD_REGISTRY_CREDENTIALS: "1" }],
  ] as const) {
    test(`${how}: the image answers the guarded package too`, async () => {
      const run = await runCli(
        ["version-check", "--agents", agents, "--json", "--network", "host", "--timeout", "25", ...flags],
        {
          env: env(extra),
          dropEnv: npmRunVariables,
        },
      );
      const results = byAgent(run.stdout);
      for (const name of ["npm-open", "npm-token", "pip-open"]) expect(results[name].source).toBe("image");
      expect(results["npm-token"].version).toBe("1.4.2");
    }, 120_000);
  }

  test("curl and git in the image trust the CA that only npm's cafile names; --no-host-registries takes it away", async () => {
    const args = [
      "version-check",
      "--agents",
      toolAgents,
      "--json",
      "--only",
      "image",
      "--network",
      "host",
      "--timeout",
      "25",
    ];
    // The host's curl and git do not know the CA (no CA variable is set): only the image can answer.
    const run = await runCli(args, { env: env(), dropEnv: npmRunVariables });
    expect(run.exitCode).toBe(0);
    const results = byAgent(run.stdout);
    expect(results["curl-release"]).toMatchObject({ ok: true, source: "image", version: LOOPBACK_PACKAGES.release });
    expect(results["git-tags"]).toMatchObject({ ok: true, source: "image", version: "1.10.0" });

    // A state folder of its own: the first run's records would answer as stale versions.
    const off = await runCli([...args, "--no-host-registries"], {
      env: env({ AICAGE_UTIL_STATE_DIR: tempDir("aicage-state-") }),
      dropEnv: npmRunVariables,
    });
    expect(off.exitCode).toBe(1);
    for (const result of Object.values(byAgent(off.stdout)) as any[]) {
      expect(result).toMatchObject({ ok: false });
      expect(result.attempts[0].error).toMatch(/\(TLS verification failed[^)]*\)$/);
    }
  }, 120_000);

  test("the token is never printed, logged, recorded or shown, verbose or not; names and sources are", async () => {
    const state = tempDir("aicage-state-");
    const outputs: string[] = [];
    for (const args of [["--json"], ["--verbose"], ["--verbose", "--forward-registry-credentials"]]) {
      const run = await runCli(["version-check", "--agents", agents, "--network", "host", "--timeout", "25", ...args], {
        env: env({ AICAGE_UTIL_STATE_DIR: state }),
        dropEnv: npmRunVariables,
      });
      outputs.push(run.stdout, run.stderr);
    }
    const doctor = await runCli(["doctor", "--json"], { env: env(), dropEnv: npmRunVariables });
    const text = await runCli(["doctor"], { env: env(), dropEnv: npmRunVariables });
    outputs.push(doctor.stdout, doctor.stderr, text.stdout, text.stderr);
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(dir, e.name)) : [readFileSync(join(dir, e.name), "utf8")],
      );
    outputs.push(...walk(state));
    for (const output of outputs) expect(output).not.toContain(TOKEN);
    // --verbose names what is forwarded and withheld, by name and where it came from.
    expect(outputs[3]).toContain(join(home, ".npmrc"));
    expect(outputs[3]).toContain("withheld");
    expect(outputs[3]).toContain("_authToken");
    // doctor's text names them too: the file each setting came from, and what stays home.
    expect(text.stdout).toContain(join(home, ".npmrc"));
    expect(text.stdout).toContain("_authToken");
    expect(text.stdout).toContain("withheld");
    const report = JSON.parse(doctor.stdout).hostRegistries;
    expect(report.withheld.length).toBeGreaterThan(0);
    expect(report.shown.map((s: { source: string }) => s.source).join(" ")).toContain(join(home, ".npmrc"));
  }, 300_000);
});

/**
 * Issue 23: credentials in the forms the filters missed (an npm `key[]` array, proxies without
 * a scheme, a token in a query string; in files and in variables) reach no check container and
 * no output without --forward-registry-credentials. An agent counts, inside the container, the
 * lines of its environment and of every file it is given that hold the marker.
 */
describe("credentials in every form stay home (issue 23)", () => {
  const MARKER = `forms-Secret-${process.pid}`;
  const formsHome = () => {
    const dir = tempDir("aicage-home-forms-");
    writeSecretFormsHome(dir, MARKER);
    return dir;
  };
  const counting = () => {
    const dir = tempDir("aicage-agents-forms-");
    mkdirSync(join(dir, "count"), { mode: 0o755 });
    // Counts only: the marker itself is never printed, so a failure shows no secret either.
    const files = `cat "\${NPM_CONFIG_USERCONFIG:-/dev/null}" "\${PIP_CONFIG_FILE:-/dev/null}"; find /aicage /home /tmp -type f -readable -exec cat {} +`;
    const body = `found=$({ env; ${files}; } 2>/dev/null | grep -c '${MARKER}' || true)\necho "1.$found"\n`;
    writeFileSync(join(dir, "count", "version.sh"), `set -uo pipefail\n${body}`, { mode: 0o644 });
    return dir;
  };
  const formsEnv = (home: string, extra: Record<string, string> = {}) => ({
    ...env(extra),
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    HTTPS_PROXY: `bob:${MARKER}-7@proxy.corp.example:3128`,
    http_proxy: `http://proxy.corp.example:3128/?token=${MARKER}-8`,
    NO_PROXY: "localhost",
    PIP_EXTRA_INDEX_URL: `https://pypi.corp.example/extra/?key=${MARKER}-9`,
  });

  test("no check container gets them, no output or record shows them; --verbose names each as withheld", async () => {
    const home = formsHome();
    const state = tempDir("aicage-state-");
    const args = ["version-check", "--agents", counting(), "--only", "image", "--network", "none", "--timeout", "25"];
    const runs = [];
    for (const extra of [["--json"], ["--verbose"]]) {
      runs.push(
        await runCli([...args, ...extra], {
          env: formsEnv(home, { AICAGE_UTIL_STATE_DIR: state }),
          dropEnv: npmRunVariables,
        }),
      );
    }
    expect(byAgent(runs[0]!.stdout).count).toMatchObject({ ok: true, source: "image", version: "1.0" });
    const verbose = runs[1]!.stderr;
    for (const name of ["npm registry", "npm @corp:registry", "npm https-proxy", "npm @team:registry"])
      expect(verbose).toContain(`withheld: ${name} ← ${join(home, ".npmrc")}`);
    for (const name of ["pip global.proxy", "pip global.index-url"]) expect(verbose).toContain(`withheld: ${name} ←`);
    expect(verbose).toContain("withheld: pip :env:.extra-index-url ← $PIP_EXTRA_INDEX_URL");
    for (const name of ["HTTPS_PROXY", "http_proxy"])
      expect(verbose).toContain(`withheld: $${name} holds a user, password or query (--forward-registry-credentials)`);
    expect(verbose).toMatch(/host variables for each script in the image .*: NO_PROXY/);
    const doctor = await runCli(["doctor", "--json"], { env: formsEnv(home), dropEnv: npmRunVariables });
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(dir, e.name)) : [readFileSync(join(dir, e.name), "utf8")],
      );
    const outputs = [...runs.flatMap((r) => [r.stdout, r.stderr]), doctor.stdout, doctor.stderr, ...walk(state)];
    for (const output of outputs) expect(output).not.toContain(MARKER);
  }, 120_000);

  test("--forward-registry-credentials: the container gets every one of them (so the count above can see them)", async () => {
    const args = ["version-check", "--agents", counting(), "--only", "image", "--network", "none", "--json"];
    const run = await runCli([...args, "--forward-registry-credentials"], {
      env: formsEnv(formsHome(), { AICAGE_UTIL_STATE_DIR: tempDir("aicage-state-") }),
      dropEnv: npmRunVariables,
    });
    // npm: registry, @corp:registry, https-proxy, @team:registry; pip: proxy, index-url, extra-index-url;
    // HTTPS_PROXY and http_proxy, each at least once (the variables are in the environment and the runner's files).
    const found = Number(byAgent(run.stdout).count.version.split(".")[1]);
    expect(found).toBeGreaterThanOrEqual(9);
    expect(run.stdout + run.stderr).not.toContain(MARKER);
  }, 120_000);
});
