// The files the engine's settings are read from (issue 23, items 2 and 4): the docker
// config.json, a context's meta.json and the TLS certificates are read only when they are
// regular files of at most 1 MiB. A FIFO there once blocked the tool for good (Ctrl-C and
// SIGTERM included), a config.json linked to /dev/zero grew without end. Each case runs the
// CLI with a deadline: a run that hangs is killed and fails the test. None needs an engine.
import { describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI_TEST_ENV, REPO_ROOT, tempDir } from "../helpers/engine.ts";

/** The CLI, killed after `seconds`: a hang shows as exit code null. */
async function cliWithin(seconds: number, args: string[], env: Record<string, string>, cwd = REPO_ROOT) {
  const proc = Bun.spawn([process.execPath, join(REPO_ROOT, "src", "cli.ts"), ...args], {
    cwd,
    env: { ...process.env, ...CLI_TEST_ENV, DOCKER_HOST: "", DOCKER_CONTEXT: "", ...env },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), seconds * 1000);
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  return { exitCode: proc.signalCode ? null : exitCode, stdout, stderr };
}

function fifo(path: string): string {
  execFileSync("mkfifo", [path]);
  return path;
}

function configDir(): string {
  const dir = join(tempDir("aicage-settings-"), "docker");
  mkdirSync(dir);
  return dir;
}

describe("the docker config.json", () => {
  const refused = (dir: string, what: string) =>
    `[error] cannot read the docker config: ${dir}/config.json is ${what}; make it a regular file, or set DOCKER_HOST\n`;

  test("a FIFO is refused at once: exit 2, one line", async () => {
    const dir = configDir();
    fifo(join(dir, "config.json"));
    const run = await cliWithin(10, ["images", "ls"], { DOCKER_CONFIG: dir });
    expect([run.exitCode, run.stderr]).toEqual([2, refused(dir, "a FIFO, not a regular file")]);
  });

  test("a link to /dev/zero is refused, not read without end; --json has the error object", async () => {
    const dir = configDir();
    symlinkSync("/dev/zero", join(dir, "config.json"));
    const run = await cliWithin(10, ["images", "ls", "--json"], { DOCKER_CONFIG: dir });
    expect([run.exitCode, run.stderr]).toEqual([2, refused(dir, "a character device, not a regular file")]);
    expect(JSON.parse(run.stdout).error).toMatchObject({ kind: "usage", exitCode: 2 });
  });

  test("a file larger than 1 MiB is refused", async () => {
    const dir = configDir();
    writeFileSync(join(dir, "config.json"), `{"currentContext": "x", "pad": "${"x".repeat(1024 * 1024)}"}`);
    const run = await cliWithin(10, ["images", "ls"], { DOCKER_CONFIG: dir });
    expect([run.exitCode, run.stderr]).toEqual([2, refused(dir, "larger than 1 MiB")]);
  });

  test("an empty DOCKER_CONFIG is unset: the config of HOME is read, not ./config.json", async () => {
    const home = tempDir("aicage-settings-home-");
    mkdirSync(join(home, ".docker"));
    writeFileSync(join(home, ".docker", "config.json"), '{"currentContext": "elsewhere"}');
    const cwd = configDir();
    fifo(join(cwd, "config.json"));
    const run = await cliWithin(10, ["images", "ls"], { DOCKER_CONFIG: "", HOME: home }, cwd);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toStartWith("[error] current context 'elsewhere' not found (");
  });
});

describe("a context's meta.json", () => {
  test("a FIFO is refused at once: exit 2, one line", async () => {
    const dir = configDir();
    const id = createHash("sha256").update("remote").digest("hex");
    mkdirSync(join(dir, "contexts", "meta", id), { recursive: true });
    const meta = fifo(join(dir, "contexts", "meta", id, "meta.json"));
    const run = await cliWithin(10, ["images", "ls"], { DOCKER_CONFIG: dir, DOCKER_CONTEXT: "remote" });
    expect([run.exitCode, run.stderr]).toEqual([
      2,
      `[error] cannot read the context 'remote': ${meta} is a FIFO, not a regular file; make it a regular file, or set DOCKER_HOST\n`,
    ]);
  });
});

describe("the TLS certificates", () => {
  const env = (certs: string) => ({
    DOCKER_HOST: "tcp://127.0.0.1:9",
    DOCKER_TLS_VERIFY: "1",
    DOCKER_CERT_PATH: certs,
  });
  const refused = (detail: string) =>
    `[error] cannot read the TLS certificates for https://127.0.0.1:9 (DOCKER_HOST): ${detail}; set DOCKER_CERT_PATH to the folder holding ca.pem, cert.pem and key.pem\n`;

  test("a FIFO for ca.pem is refused at once: exit 2, one line", async () => {
    const certs = configDir();
    const ca = fifo(join(certs, "ca.pem"));
    const run = await cliWithin(10, ["images", "ls"], env(certs));
    expect([run.exitCode, run.stderr]).toEqual([2, refused(`${ca} is a FIFO, not a regular file`)]);
  });

  test("a link to /dev/zero for key.pem is refused", async () => {
    const certs = configDir();
    writeFileSync(join(certs, "ca.pem"), "");
    writeFileSync(join(certs, "cert.pem"), "");
    symlinkSync("/dev/zero", join(certs, "key.pem"));
    const run = await cliWithin(10, ["images", "ls"], env(certs));
    expect([run.exitCode, run.stderr]).toEqual([
      2,
      refused(`${certs}/key.pem is a character device, not a regular file`),
    ]);
  });

  test("an empty DOCKER_CERT_PATH is unset: the current folder's ca.pem is never read", async () => {
    const home = tempDir("aicage-settings-home-");
    const cwd = configDir();
    fifo(join(cwd, "ca.pem"));
    const run = await cliWithin(10, ["images", "ls"], { ...env(""), HOME: home }, cwd);
    expect([run.exitCode, run.stderr]).toEqual([2, refused(`${home}/.docker/ca.pem does not exist`)]);
  });
});
