// `--secret id=NAME,src=FILE|env=VAR` for Dockerfiles that ask for one (issue 19 item 3): with
// `--via builder` the step reads it at /run/secrets/NAME; its value (a marker, on several lines
// as a key would be) is in no output, no log, no --json, not in the builder container's
// configuration and not in the image. Through the Engine API there is no BuildKit session to
// hand it over: refused in one line that names --via builder, before anything is built.
import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BASE_IMAGE, ENGINE, PODMAN, runCli, tempDir, testClient } from "../helpers/engine.ts";
import { engineSuite } from "../helpers/suite.ts";

const client = testClient();
const suite = engineSuite(["builder"], client);
const RUN = `${process.pid}-${Date.now().toString(36)}`;
const MARKER = `secret-marker-${RUN}`;
/** A value of several lines, as `$(cat key)` gives: each line must stay hidden too. */
const VALUE = `-----BEGIN TEST KEY-----\n${MARKER}-line-one\n${MARKER}-line-two\n-----END TEST KEY-----\n`;

/** A context whose RUN reads two secrets and prints only what can be shown of them: their sizes and a digest. */
function secretContext(): string {
  const context = join(tempDir("aicage-secret-build-"), "context");
  mkdirSync(context);
  writeFileSync(
    join(context, "Dockerfile"),
    [
      "ARG FROM_IMAGE",
      "FROM ${FROM_IMAGE}",
      'RUN --mount=type=secret,id=key --mount=type=secret,id=token echo "key $(wc -c < /run/secrets/key) bytes, token $(wc -c < /run/secrets/token) bytes, $(cat /run/secrets/key /run/secrets/token | sha256sum | cut -c1-16)"',
      "",
    ].join("\n"),
  );
  return context;
}

function sha256Prefix(text: string): string {
  return new Bun.CryptoHasher("sha256").update(text).digest("hex").slice(0, 16);
}

describe(`--secret (${ENGINE})`, () => {
  const keyFile = join(tempDir("aicage-secret-file-"), "key.pem");
  writeFileSync(keyFile, VALUE, { mode: 0o600 });
  const token = `${MARKER}-token`;
  const args = (tag: string, via: string) => [
    "build",
    secretContext(),
    "-t",
    tag,
    "--build-arg",
    `FROM_IMAGE=${BASE_IMAGE}`,
    "--network",
    "none",
    "--via",
    via,
    "--progress",
    "plain",
    // Secrets are no part of BuildKit's cache key: a step run before would not run again.
    "--no-cache",
    "--secret",
    `id=key,src=${keyFile}`,
    "--secret",
    "id=token,env=AICAGE_TEST_SECRET_TOKEN",
  ];
  const env = { AICAGE_TEST_SECRET_TOKEN: token };

  test(`--via builder: the step reads both values; none shows anywhere${PODMAN ? " (Podman: refused, no builder container)" : ""}`, async () => {
    const tag = `aicage-util-test/secret-builder:${RUN}`;
    suite.madeImages.push(tag);
    const run = await runCli(args(tag, "builder"), { env });
    if (PODMAN) {
      expect(run.exitCode).toBe(2);
      expect(run.stderr).toContain("[error] --secret needs --via builder: this build goes through the Engine API");
      return;
    }
    if (run.exitCode !== 0) throw new Error(run.stderr);
    const said = run.stderr.split("\n").find((line) => /key \d+ bytes/.test(line)) ?? run.stderr;
    expect(said).toContain(`key ${VALUE.length} bytes, token ${token.length} bytes, ${sha256Prefix(VALUE + token)}`);
    expect(run.stdout + run.stderr).not.toContain(MARKER);
    const logFile = /build log: (\S+)/.exec(run.stderr)![1]!;
    const log = readFileSync(logFile, "utf8");
    expect(log).toContain("secret: key (value not shown)");
    expect(log).not.toContain(MARKER);
    const image = (await client.request("GET", `/images/${encodeURIComponent(tag)}/json`)) as object;
    expect(JSON.stringify(image)).not.toContain(MARKER);
  }, 300_000);

  test("--via api: refused in one line naming --via builder, exit 2, nothing built", async () => {
    const tag = `aicage-util-test/secret-api:${RUN}`;
    const run = await runCli([...args(tag, "api"), "--json"], { env });
    expect(run.exitCode).toBe(2);
    expect(JSON.parse(run.stdout).error.message).toBe(
      "--secret needs --via builder: an Engine API build has no BuildKit session to hand them over",
    );
    expect(run.stdout + run.stderr).not.toContain(MARKER);
    const found = await client.request("GET", `/images/${encodeURIComponent(tag)}/json`).catch(() => null);
    expect(found).toBeNull();
  }, 120_000);

  test("a secret that cannot be had is a usage error naming its source, never a value", async () => {
    const missing = await runCli(["build", secretContext(), "-t", "x:1", "--secret", "id=key,src=/nonexistent/key"]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toBe("[error] --secret id=key: cannot read '/nonexistent/key': no such file\n");
    const unset = await runCli([
      "build",
      secretContext(),
      "-t",
      "x:1",
      "--secret",
      "id=t,env=AICAGE_TEST_UNSET_VARIABLE",
    ]);
    expect(unset.stderr).toBe("[error] --secret id=t: the variable 'AICAGE_TEST_UNSET_VARIABLE' is not set\n");
    const both = await runCli(["build", secretContext(), "-t", "x:1", "--secret", `id=t,src=${keyFile},env=HOME`]);
    expect(both.stderr).toBe("[error] --secret id=t: give one of src=FILE or env=VARIABLE\n");
    const fifo = join(tempDir("aicage-secret-fifo-"), "fifo");
    Bun.spawnSync(["mkfifo", fifo]);
    const blocked = await runCli(["build", secretContext(), "-t", "x:1", "--secret", `id=f,src=${fifo}`]);
    expect(blocked.exitCode).toBe(2);
    expect(blocked.stderr).toStartWith("[error] --secret id=f: cannot read");
  });
});

/** A build argument read with `$(cat key)`: its lines reach step names, output and errors one by one. */
describe(`a build argument of several lines (issue 23) (${ENGINE})`, () => {
  const lines = [`-----BEGIN TEST KEY-----`, `${MARKER}-arg-one`, `${MARKER}-arg-two`, `-----END TEST KEY-----`];
  const value = lines.join("\n");
  // The step echoes the value and fails: BuildKit names the step with the value expanded, on several lines.
  const failing = () => {
    const context = join(tempDir("aicage-secret-arg-"), "context");
    mkdirSync(context);
    writeFileSync(
      join(context, "Dockerfile"),
      'ARG FROM_IMAGE\nFROM ${FROM_IMAGE}\nARG DEPLOY_KEY\nRUN echo "$DEPLOY_KEY" && echo "key said" && exit 7\n',
    );
    return context;
  };
  for (const way of ["api", "builder"] as const) {
    test(`--via ${way}: no line of it in stdout, stderr, --json or the log`, async () => {
      const tag = `aicage-util-test/secret-arg-${way}:${RUN}`;
      const base = ["build", failing(), "-t", tag, "--build-arg", `FROM_IMAGE=${BASE_IMAGE}`];
      const common = [...base, "--build-arg", `DEPLOY_KEY=${value}`, "--network", "none", "--via", way, "--no-cache"];
      const plain = await runCli([...common, "--progress", "plain"]);
      const json = await runCli([...common, "--json"]);
      for (const run of [plain, json]) expect(run.exitCode).toBe(1);
      const error = JSON.parse(json.stdout).error;
      expect(error.message).toContain("(exit code 7)");
      const logs = [/build log: (\S+)/.exec(plain.stderr)![1]!, error.logFile as string].map((f) =>
        readFileSync(f, "utf8"),
      );
      expect(logs[1]).toContain("# build arg: DEPLOY_KEY (value not shown)");
      expect(logs[1]).toContain("key said");
      const shown = [plain.stdout, plain.stderr, json.stdout, json.stderr, ...logs].join("\n");
      for (const line of lines) expect(shown).not.toContain(line);
    }, 300_000);
  }
});
