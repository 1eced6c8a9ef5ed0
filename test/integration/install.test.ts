// The curl-pipe installer (scripts/install.sh) against a release built by
// scripts/release.ts for this machine only and served from loopback, laid out the
// way GitHub serves release assets:
//   <base>/latest/download/<file>   and   <base>/download/v0.0.0-test/<file>
// Every test gets its own URL prefix so it can read its own requests from the log,
// and the prefix also picks how the server misbehaves (corrupt asset, missing line).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { assetName, hostTarget } from "../../scripts/release.ts";

const ROOT = path.resolve(import.meta.dir, "..", "..");
const INSTALLER = path.join(ROOT, "scripts", "install.sh");
const RELEASE_SCRIPT = path.join(ROOT, "scripts", "release.ts");
const TAG = "v0.0.0-test";
const SHELL = Bun.which("dash") ?? "sh";

type Mode = "ok" | "corrupt" | "nosum";
interface Hit {
  path: string;
  userAgent: string;
}

const target = hostTarget();
if (!target) throw new Error(`no release target for ${process.platform}-${process.arch}`);
const ASSET = assetName(target);

let work: string;
let releaseDir: string;
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

async function serve(req: Request): Promise<Response> {
  const url = new URL(req.url);
  hits.push({ path: url.pathname, userAgent: req.headers.get("user-agent") ?? "" });
  const [, , mode, ...rest] = url.pathname.split("/");
  const file = path.resolve(releaseDir, ...rest);
  if (!file.startsWith(releaseDir + path.sep) || !(await Bun.file(file).exists())) {
    return new Response("not found\n", { status: 404 });
  }
  const name = path.basename(file);
  if (mode === "corrupt" && name === ASSET) {
    // Same size, one byte flipped in the middle: only the checksum can tell.
    const body = new Uint8Array(await Bun.file(file).arrayBuffer());
    body[body.length >> 1] ^= 0xff;
    return new Response(body);
  }
  if (mode === "nosum" && name === "SHA256SUMS") {
    const text = await Bun.file(file).text();
    return new Response(
      text
        .split("\n")
        .filter((l) => !l.endsWith(`  ${ASSET}`))
        .join("\n"),
    );
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

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "aicage-install-test-"));
  releaseDir = path.join(work, "release");
  const pinned = path.join(releaseDir, "download", TAG);
  const build = await run([process.execPath, RELEASE_SCRIPT, "--targets", target, "--out", pinned, "--version", TAG], {
    ...process.env,
  });
  if (build.code !== 0) throw new Error(`release build failed: ${explain(build)}`);
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
    const r = await run(["shellcheck", "--shell=sh", "--severity=style", INSTALLER], { ...process.env });
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
    expect(hitsFor(r.id).map((h) => path.basename(h.path))).toEqual(["SHA256SUMS"]);
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
    expect(seen.length).toBe(2);
    for (const h of seen) expect(h.userAgent.toLowerCase()).toStartWith("wget");
    expect(await readdir(r.dir)).toEqual(["aicage-util"]);
  });
});
