// The curl-pipe installer (scripts/install.sh) against a release built by
// scripts/release.ts for this machine only and served from loopback, laid out the
// way GitHub serves release assets:
//   <base>/latest/download/<file>   and   <base>/download/v0.0.0-test/<file>
// Every test gets its own URL prefix so it can read its own requests from the log,
// and the prefix also picks how the server misbehaves (corrupt asset, missing line, a
// signature missing, by another key or over other bytes). The release is signed with a
// throwaway key made here; the installer under test is the install.sh release.ts wrote beside
// the binaries, with that key in it. Which verifier it uses is chosen by PATH: minisign (the
// real one, from Debian), openssl without minisign, or neither.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createPrivateKey, type KeyObject } from "node:crypto";
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { assetName, hostTarget } from "../../scripts/release.ts";
import {
  type MinisignPublicKey,
  parsePublicKey,
  publicKeyLine,
  signMessage,
  verifySignature,
} from "../../src/self-update/minisign.ts";

const ROOT = path.resolve(import.meta.dir, "..", "..");
const SOURCE_INSTALLER = path.join(ROOT, "scripts", "install.sh");
/** The installer as published: release.ts's copy, with the test's release key. */
let INSTALLER: string;
const RELEASE_SCRIPT = path.join(ROOT, "scripts", "release.ts");
const TAG = "v0.0.0-test";
const SHELL = Bun.which("dash") ?? "sh";

type Mode = "ok" | "corrupt" | "nosum" | "nosig" | "foreign" | "forged";
interface Hit {
  path: string;
  userAgent: string;
}

const target = hostTarget();
if (!target) throw new Error(`no release target for ${process.platform}-${process.arch}`);
const ASSET = assetName(target);

let work: string;
let releaseDir: string;
let keys: string;
/** SHA256SUMS of the release, signed by another key than the release key. */
let foreignSignature: string;
let releaseSecret: KeyObject;
let releasePublic: MinisignPublicKey;
let server: ReturnType<typeof Bun.serve>;
const hits: Hit[] = [];
let nextId = 0;

/** A fresh URL prefix for one installer run: requests under it are served in the given mode. */
function site(mode: Mode = "ok"): { url: string; id: string } {
  const id = `t${++nextId}`;
  return { url: `http://127.0.0.1:${server.port}/${id}/${mode}`, id };
}

function hitsFor(id: string): Hit[] {
  return hits.filter((h) => h.path.startsWith(`/${id}/`));
}

async function withoutAsset(sumsFile: string): Promise<string> {
  return (await Bun.file(sumsFile).text())
    .split("\n")
    .filter((l) => !l.endsWith(`  ${ASSET}`))
    .join("\n");
}

async function serve(req: Request): Promise<Response> {
  const url = new URL(req.url);
  hits.push({ path: url.pathname, userAgent: req.headers.get("user-agent") ?? "" });
  const [, , mode, ...rest] = url.pathname.split("/");
  const file = path.resolve(releaseDir, ...rest);
  if (!file.startsWith(releaseDir + path.sep) || !(await Bun.file(file).exists())) {
    return new Response("not found\n", { status: 404 });
  }
  const name = path.basename(file);
  if (name === "SHA256SUMS.minisig" && mode === "nosig") return new Response("not found\n", { status: 404 });
  if (name === "SHA256SUMS.minisig" && mode === "foreign") return new Response(foreignSignature);
  if ((mode === "corrupt" || mode === "forged") && name === ASSET) {
    // Same size, one byte flipped in the middle: only the checksum can tell.
    const body = new Uint8Array(await Bun.file(file).arrayBuffer());
    body[body.length >> 1] ^= 0xff;
    return new Response(body);
  }
  if (mode === "forged" && name === "SHA256SUMS") {
    // The corrupted asset's own digest: the checksum agrees, only the signature can tell.
    const body = new Uint8Array(await Bun.file(path.join(path.dirname(file), ASSET)).arrayBuffer());
    body[body.length >> 1] ^= 0xff;
    const digest = new Bun.CryptoHasher("sha256").update(body).digest("hex");
    return new Response((await Bun.file(file).text()).replace(/^[0-9a-f]{64}(?=  )/gm, digest));
  }
  if (mode === "nosum" && name === "SHA256SUMS") return new Response(await withoutAsset(file));
  // The SHA256SUMS without the line, signed by the release key: only the missing line is wrong.
  if (mode === "nosum" && name === "SHA256SUMS.minisig") {
    const sums = await withoutAsset(path.join(path.dirname(file), "SHA256SUMS"));
    return new Response(signMessage(Buffer.from(sums), releaseSecret, releasePublic.keyId, `release:${TAG}`));
  }
  return new Response(Bun.file(file));
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(cmd: string[], env: Record<string, string | undefined>, stdin?: string): Promise<Run> {
  const proc = Bun.spawn(cmd, {
    cwd: work,
    env: env as Record<string, string>,
    stdin: stdin === undefined ? "ignore" : new Blob([stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

/** The environment of an installer run: ours minus any AICAGE_UTIL_* of the caller's, plus extra. */
function installerEnv(extra: Record<string, string | undefined>): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("AICAGE_UTIL_")) env[k] = v;
  Object.assign(env, { HOME: path.join(work, "home") }, extra);
  // An undefined value unsets the variable.
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined));
}

async function install(
  opts: { mode?: Mode; args?: string[]; env?: Record<string, string | undefined>; dir?: string; piped?: boolean } = {},
): Promise<Run & { id: string; dir: string }> {
  const { url, id } = site(opts.mode);
  const dir = opts.dir ?? (await mkdtemp(path.join(work, "bin-")));
  // A TMPDIR of its own, to see that the installer's temporary files are gone when it exits.
  const tmp = await mkdtemp(path.join(work, "tmp-"));
  const env = installerEnv({
    AICAGE_UTIL_DOWNLOAD_URL: url,
    AICAGE_UTIL_INSTALL_DIR: dir,
    TMPDIR: tmp,
    ...opts.env,
  });
  const args = opts.args ?? [];
  const result = opts.piped
    ? await run([SHELL, "-s", "--", ...args], env, await Bun.file(INSTALLER).text())
    : await run([SHELL, INSTALLER, ...args], env);
  const leftovers = await readdir(tmp);
  if (leftovers.length) throw new Error(`installer left ${leftovers.join(", ")} in TMPDIR; ${explain(result)}`);
  return { ...result, id, dir };
}

function explain(r: Run): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

function expectExit(r: Run, code: number): void {
  if (r.code !== code) throw new Error(`expected exit ${code}, got ${explain(r)}`);
}

/** A PATH holding links to every program on ours except the named ones. */
async function pathWithout(hidden: string[]): Promise<string> {
  const dir = await mkdtemp(path.join(work, "path-"));
  for (const entry of (process.env.PATH ?? "").split(":")) {
    let names: string[];
    try {
      names = await readdir(entry);
    } catch {
      continue;
    }
    for (const name of names) {
      if (hidden.includes(name)) continue;
      await symlink(path.join(entry, name), path.join(dir, name)).catch(() => {
        // An earlier PATH entry already provides it.
      });
    }
  }
  return dir;
}

async function releaseScript(args: string[]): Promise<void> {
  const r = await run([process.execPath, RELEASE_SCRIPT, ...args], { ...process.env });
  if (r.code !== 0) throw new Error(`release.ts ${args.join(" ")} failed: ${explain(r)}`);
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "aicage-install-test-"));
  releaseDir = path.join(work, "release");
  keys = path.join(work, "keys");
  const pinned = path.join(releaseDir, "download", TAG);
  await releaseScript(["--generate-key", `${keys}/release.pem`, "--public-key", `${keys}/release.pub`]);
  await releaseScript(["--generate-key", `${keys}/other.pem`, "--public-key", `${keys}/other.pub`]);
  await releaseScript([
    ...["--targets", target, "--out", pinned, "--version", TAG],
    ...["--sign", `${keys}/release.pem`, "--public-key", `${keys}/release.pub`],
  ]);
  INSTALLER = path.join(pinned, "install.sh");
  releaseSecret = createPrivateKey(await readFile(`${keys}/release.pem`, "utf8"));
  releasePublic = parsePublicKey(await readFile(`${keys}/release.pub`, "utf8"))!;
  const other = parsePublicKey(await readFile(`${keys}/other.pub`, "utf8"));
  foreignSignature = signMessage(
    await readFile(path.join(pinned, "SHA256SUMS")),
    createPrivateKey(await readFile(`${keys}/other.pem`, "utf8")),
    other!.keyId,
    `file:SHA256SUMS\trelease:${TAG}`,
  );
  await mkdir(path.join(releaseDir, "latest"), { recursive: true });
  await cp(pinned, path.join(releaseDir, "latest", "download"), { recursive: true });
  await mkdir(path.join(work, "home"), { recursive: true });
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: serve });
}, 300_000);

afterAll(async () => {
  server?.stop(true);
  if (work) await rm(work, { recursive: true, force: true });
});

describe("install.sh", () => {
  test("is POSIX sh that shellcheck finds nothing wrong with", async () => {
    if (!Bun.which("shellcheck")) {
      throw new Error("shellcheck is not installed: scripts/test-engine.sh installs it (npm test runs it first)");
    }
    const r = await run(["shellcheck", "--shell=sh", "--severity=style", SOURCE_INSTALLER], { ...process.env });
    expectExit(r, 0);
  });

  test("installs the latest release and the binary runs --version and doctor", async () => {
    const r = await install();
    expectExit(r, 0);
    const bin = path.join(r.dir, "aicage-util");
    expect(await readdir(r.dir)).toEqual(["aicage-util"]);
    expect((await Bun.file(bin).stat()).mode & 0o777).toBe(0o755);
    expect(r.stdout).toContain("0.0.0-test");
    expect(r.stdout).toContain("is not on your PATH");
    expect(hitsFor(r.id).map((h) => h.path)).toEqual([
      `/${r.id}/ok/latest/download/SHA256SUMS`,
      `/${r.id}/ok/latest/download/SHA256SUMS.minisig`,
      `/${r.id}/ok/latest/download/${ASSET}`,
    ]);
    expect(hitsFor(r.id).every((h) => h.userAgent.toLowerCase().startsWith("curl/"))).toBe(true);

    const version = await run([bin, "--version"], { ...process.env });
    expectExit(version, 0);
    expect(version.stdout).toContain("0.0.0-test");

    // An engine answers on this machine and in CI.
    const doctor = await run([bin, "doctor"], { ...process.env });
    expectExit(doctor, 0);
  });

  test("defaults to ~/.local/bin and says nothing about PATH when it is on PATH", async () => {
    const home = await mkdtemp(path.join(work, "home-"));
    const dir = path.join(home, ".local", "bin");
    const r = await install({
      dir,
      env: { AICAGE_UTIL_INSTALL_DIR: undefined, HOME: home, PATH: `${dir}:${process.env.PATH}` },
    });
    expectExit(r, 0);
    expect(await readdir(dir)).toEqual(["aicage-util"]);
    expect(r.stdout).not.toContain("is not on your PATH");
  });

  test("--version pins the release, also behind a pipe (sh -s --)", async () => {
    const r = await install({ args: ["--version", TAG], piped: true });
    expectExit(r, 0);
    expect(hitsFor(r.id).map((h) => h.path)).toEqual([
      `/${r.id}/ok/download/${TAG}/SHA256SUMS`,
      `/${r.id}/ok/download/${TAG}/SHA256SUMS.minisig`,
      `/${r.id}/ok/download/${TAG}/${ASSET}`,
    ]);
    expect(r.stdout).toContain("0.0.0-test");

    // Without the leading v it is the same release.
    const bare = await install({ args: ["--version", TAG.slice(1)] });
    expectExit(bare, 0);
    expect(hitsFor(bare.id).map((h) => h.path)).toContain(`/${bare.id}/ok/download/${TAG}/${ASSET}`);
  });

  test("a release that does not exist fails with exit 1 and installs nothing", async () => {
    const r = await install({ args: ["--version", "v9.9.9"] });
    expectExit(r, 1);
    expect(r.stderr).toContain("download/v9.9.9/SHA256SUMS");
    expect(await readdir(r.dir)).toEqual([]);
  });

  test("a corrupted asset is refused and nothing is installed", async () => {
    const r = await install({ mode: "corrupt" });
    expectExit(r, 1);
    expect(r.stderr).toContain("checksum mismatch");
    expect(await readdir(r.dir)).toEqual([]);

    // Nor does it touch a copy that is already installed.
    const dir = await mkdtemp(path.join(work, "bin-"));
    await writeFile(path.join(dir, "aicage-util"), "previous install\n");
    const again = await install({ mode: "corrupt", dir });
    expectExit(again, 1);
    expect(await readdir(dir)).toEqual(["aicage-util"]);
    expect(await readFile(path.join(dir, "aicage-util"), "utf8")).toBe("previous install\n");
  });

  test("an asset missing from SHA256SUMS is refused before it is downloaded", async () => {
    const r = await install({ mode: "nosum" });
    expectExit(r, 1);
    expect(r.stderr).toContain(`lists no ${ASSET}`);
    expect(await readdir(r.dir)).toEqual([]);
    expect(hitsFor(r.id).map((h) => path.basename(h.path))).toEqual(["SHA256SUMS", "SHA256SUMS.minisig"]);
  });

  test("asks for the asset release.ts names for each platform", async () => {
    const cases: [Record<string, string>, string][] = [
      [{ AICAGE_UTIL_OS: "linux", AICAGE_UTIL_ARCH: "x86_64", AICAGE_UTIL_LIBC: "glibc" }, "linux-x64"],
      [{ AICAGE_UTIL_OS: "Linux", AICAGE_UTIL_ARCH: "aarch64", AICAGE_UTIL_LIBC: "glibc" }, "linux-arm64"],
      [{ AICAGE_UTIL_OS: "linux", AICAGE_UTIL_ARCH: "amd64", AICAGE_UTIL_LIBC: "musl" }, "linux-x64-musl"],
      [{ AICAGE_UTIL_OS: "Darwin", AICAGE_UTIL_ARCH: "x86_64" }, "darwin-x64"],
      [{ AICAGE_UTIL_OS: "darwin", AICAGE_UTIL_ARCH: "arm64" }, "darwin-arm64"],
    ];
    for (const [env, platform] of cases) {
      // Only the host's asset exists here, so the others stop at the SHA256SUMS lookup.
      const r = await install({ env, mode: "nosum" });
      expectExit(r, 1);
      expect(r.stderr).toContain(`lists no ${assetName(platform)};`);
    }
    const muslArm = await install({
      env: { AICAGE_UTIL_OS: "linux", AICAGE_UTIL_ARCH: "arm64", AICAGE_UTIL_LIBC: "musl" },
    });
    expectExit(muslArm, 2);
    expect(muslArm.stderr).toContain("musl");
  });

  test("an unknown CPU architecture is named and exits 2", async () => {
    const r = await install({ env: { AICAGE_UTIL_ARCH: "sparc64" } });
    expectExit(r, 2);
    expect(r.stderr).toContain("unsupported CPU architecture: sparc64");
    expect(hitsFor(r.id)).toEqual([]);
    expect(await readdir(r.dir)).toEqual([]);
  });

  test("on Windows (MSYS, Cygwin, Git Bash) it says to install inside WSL2: exit 2, nothing downloaded", async () => {
    for (const os of ["MINGW64_NT-10.0-19045", "CYGWIN_NT-10.0", "Windows_NT"]) {
      const r = await install({ env: { AICAGE_UTIL_OS: os } });
      expectExit(r, 2);
      expect(r.stderr).toContain("there is no Windows binary: on Windows, run this installer inside WSL2");
      expect(hitsFor(r.id)).toEqual([]);
    }
  });

  test("an unknown operating system exits 2", async () => {
    const r = await install({ env: { AICAGE_UTIL_OS: "plan9" } });
    expectExit(r, 2);
    expect(r.stderr).toContain("unsupported operating system: plan9");
  });

  test("usage errors exit 2 and --help exits 0", async () => {
    const bad = await install({ args: ["--frobnicate"] });
    expectExit(bad, 2);
    expect(bad.stderr).toContain("--frobnicate");
    const noValue = await install({ args: ["--version"] });
    expectExit(noValue, 2);
    const badVersion = await install({ args: ["--version", "1.2;rm"] });
    expectExit(badVersion, 2);
    const help = await install({ args: ["--help"] });
    expectExit(help, 0);
    expect(help.stdout).toContain("AICAGE_UTIL_INSTALL_DIR");
    for (const r of [bad, noValue, badVersion, help]) expect(hitsFor(r.id)).toEqual([]);
  });

  test("running it twice re-installs in place", async () => {
    const first = await install();
    expectExit(first, 0);
    const second = await install({ dir: first.dir });
    expectExit(second, 0);
    expect(await readdir(first.dir)).toEqual(["aicage-util"]);
    const version = await run([path.join(first.dir, "aicage-util"), "--version"], { ...process.env });
    expectExit(version, 0);
    expect(version.stdout).toContain("0.0.0-test");
  });

  test("uses wget when curl is not on PATH", async () => {
    if (!Bun.which("wget")) {
      throw new Error("wget is not installed: scripts/test-engine.sh installs it (npm test runs it first)");
    }
    const PATH = await pathWithout(["curl"]);
    const r = await install({ env: { PATH } });
    expectExit(r, 0);
    const seen = hitsFor(r.id);
    expect(seen.length).toBe(3);
    for (const h of seen) expect(h.userAgent.toLowerCase()).toStartWith("wget");
    expect(await readdir(r.dir)).toEqual(["aicage-util"]);
  });

  test("the published install.sh carries the release key, and scripts/install.sh the project's key", async () => {
    const releaseKey = parsePublicKey(await readFile(`${keys}/release.pub`, "utf8"))!;
    expect(await readFile(INSTALLER, "utf8")).toContain(`\nRELEASE_PUBLIC_KEY=${publicKeyLine(releaseKey)}\n`);
    const projectKey = parsePublicKey(await readFile(path.join(ROOT, "keys", "release.pub"), "utf8"))!;
    expect(await readFile(SOURCE_INSTALLER, "utf8")).toContain(`\nRELEASE_PUBLIC_KEY=${publicKeyLine(projectKey)}\n`);
  });
});

describe("install.sh and the signature of SHA256SUMS", () => {
  function needMinisign(): void {
    if (!Bun.which("minisign")) {
      throw new Error("minisign is not installed: scripts/test-engine.sh installs it (npm test runs it first)");
    }
  }

  test("a release built with --sign verifies with the real minisign -Vm SHA256SUMS -p KEY; its binary carries the key", async () => {
    needMinisign();
    const pinned = path.join(releaseDir, "download", TAG);
    const ok = Bun.spawnSync(["minisign", "-Vm", "SHA256SUMS", "-p", `${keys}/release.pub`], { cwd: pinned });
    expect([ok.exitCode, ok.stdout.toString()]).toEqual([
      0,
      expect.stringContaining("Signature and comment signature verified"),
    ]);
    expect(ok.stdout.toString()).toContain(`release:${TAG}`);
    const other = Bun.spawnSync(["minisign", "-Vm", "SHA256SUMS", "-p", `${keys}/other.pub`], { cwd: pinned });
    expect(other.exitCode).not.toBe(0);
    const keyLine = publicKeyLine(parsePublicKey(await readFile(`${keys}/release.pub`, "utf8"))!);
    expect((await readFile(path.join(pinned, ASSET))).includes(Buffer.from(keyLine))).toBe(true);
  });

  test("a signature the real minisign makes is one upgrade's check accepts, and rejects when it is off", async () => {
    needMinisign();
    const dir = await mkdtemp(path.join(work, "minisign-"));
    const gen = Bun.spawnSync(["minisign", "-G", "-W", "-p", "m.pub", "-s", "m.key"], { cwd: dir });
    expect(gen.exitCode).toBe(0);
    await writeFile(path.join(dir, "file"), "signed bytes\n");
    const signed = Bun.spawnSync(["minisign", "-Sm", "file", "-s", "m.key", "-t", "release:v9.9.9"], { cwd: dir });
    expect(signed.exitCode).toBe(0);
    const key = parsePublicKey(await readFile(path.join(dir, "m.pub"), "utf8"))!;
    const signature = await readFile(path.join(dir, "file.minisig"), "utf8");
    expect(verifySignature(Buffer.from("signed bytes\n"), signature, key)).toEqual({
      ok: true,
      trustedComment: "release:v9.9.9",
    });
    expect(verifySignature(Buffer.from("other bytes\n"), signature, key)).toMatchObject({ problem: "bad-signature" });
    const other = parsePublicKey(await readFile(`${keys}/other.pub`, "utf8"))!;
    expect(verifySignature(Buffer.from("signed bytes\n"), signature, other)).toMatchObject({ problem: "other-key" });
    const edited = signature.replace("release:v9.9.9", "release:v9.9.8");
    expect(verifySignature(Buffer.from("signed bytes\n"), edited, key)).toMatchObject({
      problem: "bad-signature",
      detail: "the trusted comment was changed after signing",
    });
  });

  const verifiers: Array<[string, () => Promise<string>]> = [
    [
      "minisign",
      async () => {
        needMinisign();
        return process.env.PATH ?? "";
      },
    ],
    ["openssl", () => pathWithout(["minisign"])],
  ];
  for (const [tool, PATH] of verifiers) {
    test(`with ${tool}: a good signature is verified and said so`, async () => {
      const r = await install({ env: { PATH: await PATH() } });
      expectExit(r, 0);
      expect(r.stdout).toContain(`Verified the signature of SHA256SUMS with ${tool}`);
      expect(r.stderr).toBe("");
    });

    for (const [mode, words] of [
      ["forged", "is not valid"],
      ["foreign", "is not valid"],
      ["nosig", "the latest release is not signed"],
    ] as const) {
      test(`with ${tool}: a ${mode} signature is refused in one line, before the binary is downloaded`, async () => {
        const dir = await mkdtemp(path.join(work, "bin-"));
        await writeFile(path.join(dir, "aicage-util"), "previous install\n");
        const r = await install({ mode, dir, env: { PATH: await PATH(), AICAGE_UTIL_REQUIRE_SIGNATURE: "1" } });
        expectExit(r, 1);
        expect(r.stderr.trim().split("\n")).toHaveLength(1);
        expect(r.stderr).toContain(words);
        expect(r.stderr).toContain("nothing was installed");
        expect(await readFile(path.join(dir, "aicage-util"), "utf8")).toBe("previous install\n");
        expect(hitsFor(r.id).map((h) => path.basename(h.path))).not.toContain(ASSET);
      });
    }
  }

  test("with openssl: a signature by another key is named as such", async () => {
    const r = await install({ mode: "foreign", env: { PATH: await pathWithout(["minisign"]) } });
    expectExit(r, 1);
    expect(r.stderr).toContain("made by another key than the release key");
  });

  test("with neither: one line says only the checksum was verified, and why", async () => {
    const r = await install({ env: { PATH: await pathWithout(["minisign", "openssl"]) } });
    expectExit(r, 0);
    const warnings = r.stderr.trim().split("\n");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("only the SHA-256 checksum was verified, not the signature of SHA256SUMS");
    expect(warnings[0]).toContain("neither minisign nor openssl is installed");
    expect(await readdir(r.dir)).toEqual(["aicage-util"]);
  });

  test("with an openssl that is not OpenSSL 1.1.1+: the warning names it", async () => {
    const PATH = await pathWithout(["minisign", "openssl"]);
    const fake = await mkdtemp(path.join(work, "fake-openssl-"));
    await writeFile(path.join(fake, "openssl"), "#!/bin/sh\necho 'LibreSSL 3.3.6'\n");
    await chmod(path.join(fake, "openssl"), 0o755);
    const r = await install({ env: { PATH: `${fake}:${PATH}` } });
    expectExit(r, 0);
    expect(r.stderr).toContain("openssl is LibreSSL 3.3.6, not OpenSSL 1.1.1 or newer");
  });

  test("with neither: --require-signature and AICAGE_UTIL_REQUIRE_SIGNATURE=1 refuse, a missing signature is refused anyway", async () => {
    const PATH = await pathWithout(["minisign", "openssl"]);
    for (const opts of [{ args: ["--require-signature"] }, { env: { AICAGE_UTIL_REQUIRE_SIGNATURE: "1" } }]) {
      const r = await install({ args: opts.args, env: { PATH, ...opts.env } });
      expectExit(r, 1);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(
        "cannot verify the signature of SHA256SUMS: neither minisign nor openssl is installed",
      );
      expect(await readdir(r.dir)).toEqual([]);
      expect(hitsFor(r.id).map((h) => path.basename(h.path))).not.toContain(ASSET);
    }
    const missing = await install({ mode: "nosig", env: { PATH } });
    expectExit(missing, 1);
    expect(missing.stderr).toContain("is not signed");
    const bad = await install({ env: { PATH, AICAGE_UTIL_REQUIRE_SIGNATURE: "yes" } });
    expectExit(bad, 2);
  });
});
