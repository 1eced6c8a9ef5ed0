// `aicage-util upgrade` with real release binaries: scripts/release.ts compiles this source
// twice, as 0.9.0 (installed into a temporary folder) and as 1.0.0 (served from 127.0.0.1,
// laid out as GitHub serves releases: <base>/latest redirects to <base>/tag/v1.0.0, assets
// under <base>/download/v1.0.0/). Each run gets its own URL prefix, which also picks how the
// server misbehaves, so a test can read its own requests and nothing else. Both releases are
// signed with a throwaway key made here (release.ts --generate-key); the release key is compiled
// into both binaries. A second throwaway key stands for anyone else's.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  closeSync,
  cpSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  rmSync,
} from "node:fs";
import { createHash, createPrivateKey } from "node:crypto";
import { join } from "node:path";
import { assetName, hostTarget } from "../../src/self-update/release-targets.ts";
import { parsePublicKey, signMessage } from "../../src/self-update/minisign.ts";
import { BUN, REPO_ROOT, runCli, tempDir } from "../helpers/engine.ts";
import { validateJson } from "../helpers/json-schema.ts";

const OLD = "0.9.0";
const NEW = "1.0.0";
const target = hostTarget();
if (!target) throw new Error(`no release target for ${process.platform}-${process.arch}`);
const ASSET = assetName(target);

type Mode =
  | "ok"
  | "tampered"
  | "badsum"
  | "nosum"
  | "cut"
  | "stall"
  | "broken"
  | "noredirect"
  | "nosig"
  | "foreign"
  | "forged"
  | "replayed"
  | "huge"
  | "declared"
  | "loop"
  | "stubborn";
const work = tempDir("aicage-upgrade-");
const releaseDir = join(work, "release");
const oldBinary = join(work, "old", ASSET);
const releaseKey = { secret: join(work, "keys", "release.pem"), public: join(work, "keys", "release.pub") };
const otherKey = { secret: join(work, "keys", "other.pem"), public: join(work, "keys", "other.pub") };
/** The new release's size, SHA-256 and first 64 KiB; the whole file is read only where a test needs it (the suite shares one process). */
let newSize = 0;
let newSha = "";
let newHead: Uint8Array;
let oldSha = "";
const newAsset = () => join(releaseDir, "download", `v${NEW}`, ASSET);
let server: ReturnType<typeof Bun.serve>;
/** Answers any request with the whole Content-Length of the new release, sends 64 KiB of it and hangs up. */
let breakingServer: Bun.TCPSocketListener<undefined>;
const hits: string[] = [];
let nextId = 0;

function site(mode: Mode = "ok"): { url: string; id: string } {
  const id = `t${++nextId}`;
  return { url: `http://127.0.0.1:${server.port}/${id}/${mode}`, id };
}
const hitsFor = (id: string) => hits.filter((h) => h.startsWith(`/${id}/`)).map((h) => h.split("/").slice(3).join("/"));

const sha256 = (bytes: Uint8Array | string) => createHash("sha256").update(bytes).digest("hex");
/** SHA-256 of a file read a MiB at a time: the binaries are 100 MiB and the suite shares one process. */
function fileSha256(file: string): string {
  const hash = createHash("sha256");
  const buffer = Buffer.alloc(1 << 20);
  const fd = openSync(file, "r");
  try {
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) hash.update(buffer.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest("hex");
}
/** A "binary" that runs but is not aicage-util 1.0.0: its --version fails. */
const BROKEN = "#!/bin/sh\necho 'cannot execute: wrong architecture' >&2\nexit 126\n";

/** Where the stubborn binary's --version writes its pid and its child's. */
const stubbornPids = join(work, "stubborn", "pids");
/** A "binary" whose --version ignores SIGTERM (and Ctrl-C), and starts a child that does too. */
const STUBBORN = `#!/bin/sh\ntrap '' TERM INT HUP\nsleep 1000 &\necho "$$ $!" > '${stubbornPids}'\nwait\n`;
/** More than the 256 MiB cap of a release binary, sent without a Content-Length. */
const HUGE_MIB = 300;

/** SHA256SUMS text signed by a key's files, as release.ts signs it (the trusted comment names the release). */
function signedBy(key: { secret: string; public: string }, sums: string, version = NEW): string {
  const publicKey = parsePublicKey(readFileSync(key.public, "utf8"));
  if (!publicKey) throw new Error(`${key.public} is not a public key`);
  const secret = createPrivateKey(readFileSync(key.secret, "utf8"));
  return signMessage(Buffer.from(sums), secret, publicKey.keyId, `file:SHA256SUMS\trelease:v${version}`);
}

/** What a mode serves as SHA256SUMS; the signature of the real one is re-made by the release key where the mode's point lies elsewhere. */
function servedSums(mode: string, sums: string): string {
  if (mode === "badsum" || mode === "forged") return sums.replace(/^[0-9a-f]{64}(?=  )/m, "0".repeat(64));
  if (mode === "nosum")
    return sums
      .split("\n")
      .filter((l) => !l.endsWith(`  ${ASSET}`))
      .join("\n");
  if (mode === "broken") return `${sha256(BROKEN)}  ${ASSET}\n`;
  if (mode === "stubborn") return `${sha256(STUBBORN)}  ${ASSET}\n`;
  if (mode === "replayed") return readFileSync(join(work, "old", "SHA256SUMS"), "utf8");
  return sums;
}

async function serveSignature(mode: string, file: string): Promise<Response> {
  const sums = await Bun.file(file.replace(/\.minisig$/, "")).text();
  if (mode === "nosig") return new Response("not found\n", { status: 404 });
  if (mode === "foreign") return new Response(signedBy(otherKey, sums));
  // The old release's own signature, served for the new one: signed, but for v0.9.0.
  if (mode === "replayed") return new Response(Bun.file(join(work, "old", "SHA256SUMS.minisig")));
  if (mode === "nosum" || mode === "broken" || mode === "stubborn")
    return new Response(signedBy(releaseKey, servedSums(mode, sums)));
  // "badsum", "forged": the release's signature, over other bytes than those served.
  return new Response(Bun.file(file));
}

async function serve(req: Request): Promise<Response> {
  const url = new URL(req.url);
  hits.push(url.pathname);
  const [, id, mode, ...rest] = url.pathname.split("/");
  const where = rest.join("/");
  if (where === "latest") {
    if (mode === "noredirect") return new Response("<html>releases</html>");
    return new Response(null, { status: 302, headers: { location: `/${id}/${mode}/tag/v${NEW}` } });
  }
  const file = join(releaseDir, ...rest);
  if (!where.startsWith(`download/v${NEW}/`) || !(await Bun.file(file).exists()))
    return new Response("not found\n", { status: 404 });
  const name = rest.at(-1);
  if (name === "SHA256SUMS") return new Response(servedSums(mode!, await Bun.file(file).text()));
  if (name === "SHA256SUMS.minisig") return serveSignature(mode!, file);
  if (name !== ASSET) return new Response(Bun.file(file));
  if (mode === "tampered" || mode === "forged") {
    // Same size, one byte flipped in the middle: only the checksum can tell.
    const body = new Uint8Array(readFileSync(newAsset()));
    body[body.length >> 1]! ^= 0xff;
    return new Response(body);
  }
  if (mode === "broken") return new Response(BROKEN);
  if (mode === "stubborn") return new Response(STUBBORN);
  if (mode === "loop") return new Response(null, { status: 302, headers: { location: url.pathname } });
  if (mode === "huge") {
    // Streamed, so without a Content-Length: only counting the bytes can stop it.
    let sent = 0;
    const mib = new Uint8Array(1 << 20);
    return new Response(
      new ReadableStream({
        pull(controller) {
          if (sent++ < HUGE_MIB) controller.enqueue(mib);
          else controller.close();
        },
      }),
    );
  }
  if (mode === "cut" || mode === "stall" || mode === "declared") {
    // Like GitHub, the asset is a redirect to another server, which breaks off (or stalls) mid-body.
    return new Response(null, {
      status: 302,
      headers: { location: `http://127.0.0.1:${breakingServer.port}/${mode}/${ASSET}` },
    });
  }
  return new Response(Bun.file(file));
}

function releaseScript(args: string[]): void {
  const build = Bun.spawnSync([BUN, join(REPO_ROOT, "scripts/release.ts"), ...args], {
    cwd: REPO_ROOT,
    stderr: "pipe",
    stdout: "pipe",
  });
  if (build.exitCode !== 0) throw new Error(`release.ts ${args.join(" ")} failed: ${build.stderr}${build.stdout}`);
}

function release(version: string, out: string): void {
  const build = Bun.spawnSync(
    [
      BUN,
      join(REPO_ROOT, "scripts/release.ts"),
      "--targets",
      target!,
      "--out",
      out,
      "--version",
      version,
      "--sign",
      releaseKey.secret,
      "--public-key",
      releaseKey.public,
    ],
    { cwd: REPO_ROOT, stderr: "pipe", stdout: "pipe" },
  );
  if (build.exitCode !== 0) throw new Error(`release ${version} failed: ${build.stderr}${build.stdout}`);
}

beforeAll(() => {
  releaseScript(["--generate-key", releaseKey.secret, "--public-key", releaseKey.public]);
  releaseScript(["--generate-key", otherKey.secret, "--public-key", otherKey.public]);
  release(OLD, join(work, "old"));
  release(NEW, join(releaseDir, "download", `v${NEW}`));
  const newBytes = readFileSync(newAsset());
  newSize = newBytes.length;
  newSha = sha256(newBytes);
  newHead = new Uint8Array(newBytes.subarray(0, 65_536));
  oldSha = fileSha256(oldBinary);
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: serve });
  breakingServer = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket, request) {
        // "declared" says 10 GiB are coming.
        const size = Buffer.from(request).toString("latin1").includes(" /declared/") ? 10 * 1024 ** 3 : newSize;
        socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\nContent-Type: application/octet-stream\r\n\r\n`);
        socket.write(newHead);
        // "stall" keeps the connection open without sending more, until the client goes.
        if (!Buffer.from(request).toString("latin1").includes(" /stall/")) socket.end();
      },
    },
  });
}, 300_000);

afterAll(() => {
  server?.stop(true);
  breakingServer?.stop(true);
});

/** A fresh install of the old release: a folder holding only aicage-util. */
function installOld(mode = 0o755): { dir: string; bin: string } {
  const dir = tempDir("aicage-upgrade-bin-");
  const bin = join(dir, "aicage-util");
  cpSync(oldBinary, bin);
  chmodSync(bin, 0o755);
  chmodSync(dir, mode);
  return { dir, bin };
}

async function run(bin: string, args: string[], url: string, user?: string) {
  const argv = user ? ["setpriv", `--reuid=${user}`, "--regid=65534", "--clear-groups", bin, ...args] : [bin, ...args];
  const proc = Bun.spawn(argv, {
    cwd: work,
    env: { ...process.env, AICAGE_UTIL_DOWNLOAD_URL: url, NO_COLOR: "1", HOME: work },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { exitCode, stdout, stderr };
}

const versionOf = async (bin: string) => (await run(bin, ["--version"], "http://127.0.0.1:1")).stdout.trim();
/** The install folder holds only the binary, and the binary is the old release, byte for byte. */
function expectUntouched(dir: string, bin: string): void {
  expect(readdirSync(dir)).toEqual(["aicage-util"]);
  expect(fileSha256(bin)).toBe(oldSha);
}

describe("upgrade --check", () => {
  test("a newer release: exit 100, one line naming it; --json says the same", async () => {
    const { bin } = installOld();
    const { url, id } = site();
    const text = await run(bin, ["upgrade", "--check"], url);
    expect(text.exitCode).toBe(100);
    expect(text.stdout).toBe("");
    expect(text.stderr).toContain(`aicage-util ${NEW} is out (this is ${OLD})`);
    const json = await run(bin, ["upgrade", "--check", "--json"], url);
    expect(json.exitCode).toBe(100);
    const result = JSON.parse(json.stdout);
    expect(result).toMatchObject({
      schemaVersion: 1,
      current: OLD,
      available: NEW,
      newer: true,
      upgraded: false,
      asset: ASSET,
      sha256: null,
    });
    validateJson("upgrade", result);
    // Only the redirect was asked for: no download.
    expect(hitsFor(id)).toEqual(["latest", "latest"]);
  });

  test("a mirror whose /latest does not redirect: exit 1, one line saying what a mirror must do", async () => {
    const { bin } = installOld();
    const { exitCode, stderr } = await run(bin, ["upgrade", "--check"], site("noredirect").url);
    expect(exitCode).toBe(1);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("does not redirect, not to …/tag/vX.Y.Z");
  });

  test("from source it says it only upgrades a release binary: exit 2", async () => {
    const { exitCode, stderr, stdout } = await runCli(["upgrade", "--check", "--json"]);
    expect(exitCode).toBe(2);
    expect(stderr).toContain("upgrade replaces a release binary");
    const error = JSON.parse(stdout);
    expect(error.error).toMatchObject({ kind: "usage", exitCode: 2 });
    validateJson("error", error);
  });
});

describe("upgrade", () => {
  test("downloads, verifies, runs and replaces the binary; then there is nothing to do", async () => {
    const { dir, bin } = installOld();
    const { url, id } = site();
    const { exitCode, stdout, stderr } = await run(bin, ["upgrade", "--json"], url);
    expect({ exitCode, stderr }).toMatchObject({ exitCode: 0 });
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({
      schemaVersion: 1,
      current: OLD,
      available: NEW,
      newer: true,
      upgraded: true,
      binary: bin,
      sha256: newSha,
    });
    validateJson("upgrade", result);
    expect(hitsFor(id)).toEqual([
      "latest",
      `download/v${NEW}/SHA256SUMS`,
      `download/v${NEW}/SHA256SUMS.minisig`,
      `download/v${NEW}/${ASSET}`,
    ]);
    expect(readdirSync(dir)).toEqual(["aicage-util"]);
    expect((await versionOf(bin)).startsWith(`aicage-util ${NEW} `)).toBe(true);

    const again = await run(bin, ["upgrade"], url);
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toContain(`aicage-util ${NEW} is the newest release; nothing to do`);
    const check = await run(bin, ["upgrade", "--check"], url);
    expect(check.exitCode).toBe(0);
    expect(hitsFor(id).filter((h) => h.startsWith("download/"))).toHaveLength(3);
  });

  test("--version pins a release without asking for the newest; a bad one is exit 2, a missing one exit 1", async () => {
    const { bin } = installOld();
    const { url, id } = site();
    const pinned = await run(bin, ["upgrade", "--version", `v${NEW}`], url);
    expect(pinned.exitCode).toBe(0);
    expect(pinned.stderr).toContain(`upgraded ${bin} from ${OLD} to ${NEW}`);
    expect(hitsFor(id)).toEqual([
      `download/v${NEW}/SHA256SUMS`,
      `download/v${NEW}/SHA256SUMS.minisig`,
      `download/v${NEW}/${ASSET}`,
    ]);

    const other = installOld();
    const bad = await run(other.bin, ["upgrade", "--version", "1.2;rm"], url);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("--version takes a release version");
    const missing = await run(other.bin, ["upgrade", "--version", "9.9.9"], url);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain("download/v9.9.9/SHA256SUMS answered HTTP 404: does release v9.9.9 exist");
    expectUntouched(other.dir, other.bin);
  });

  const badSignature = `the signature of SHA256SUMS of release v${NEW} is not valid`;
  const refusals: Array<[Mode, string]> = [
    ["tampered", "checksum mismatch for"],
    ["badsum", `${badSignature} (the signature does not match the file's bytes)`],
    ["forged", `${badSignature} (the signature does not match the file's bytes)`],
    ["foreign", `${badSignature} (signed by key `],
    ["nosig", `SHA256SUMS.minisig answered HTTP 404: release v${NEW} is not signed`],
    ["replayed", `was signed for another release (trusted comment '`],
    ["nosum", `SHA256SUMS of release v${NEW} lists no ${ASSET}; refusing to upgrade`],
    ["cut", "broke off after"],
    ["broken", "the new binary does not run on this machine"],
    ["huge", `/${ASSET} is larger than 256 MiB, more than a release binary`],
    ["declared", `/${ASSET} is larger than 256 MiB, more than a release binary`],
    [
      "loop",
      `/${ASSET}: it redirects too many times (a redirect loop); check AICAGE_UTIL_DOWNLOAD_URL or try again later; nothing was changed`,
    ],
  ];
  for (const [mode, words] of refusals) {
    test(`${mode}: exit 1, one line, the old binary stays and nothing is left behind`, async () => {
      const { dir, bin } = installOld();
      const { exitCode, stderr, stdout } = await run(bin, ["upgrade"], site(mode).url);
      expect({ exitCode, stdout }).toEqual({ exitCode: 1, stdout: "" });
      const errors = stderr.split("\n").filter((l) => l.startsWith("[error]"));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(words);
      expect(errors[0]).toContain("nothing was changed");
      // The runtime's words for its own developers are no part of the line.
      expect(errors[0]).not.toMatch(/verbose|TooManyRedirects|fetch\(\)/);
      expectUntouched(dir, bin);
      expect((await versionOf(bin)).startsWith(`aicage-util ${OLD} `)).toBe(true);
    });
  }

  test("--version of a release that is not signed (as releases before signing were) is refused too", async () => {
    const { dir, bin } = installOld();
    const { url, id } = site("nosig");
    const { exitCode, stderr } = await run(bin, ["upgrade", "--version", NEW], url);
    expect(exitCode).toBe(1);
    expect(stderr).toContain(`release v${NEW} is not signed; refusing to upgrade, nothing was changed`);
    expect(hitsFor(id)).toEqual([`download/v${NEW}/SHA256SUMS`, `download/v${NEW}/SHA256SUMS.minisig`]);
    expectUntouched(dir, bin);
  });

  test("Ctrl-C during the download: exit 130, the staged file is removed, the old binary stays", async () => {
    const { dir, bin } = installOld();
    const proc = Bun.spawn([bin, "upgrade"], {
      cwd: work,
      env: { ...process.env, AICAGE_UTIL_DOWNLOAD_URL: site("stall").url, NO_COLOR: "1" },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    // Wait until the download has begun: the staged file sits next to the binary.
    const deadline = Date.now() + 20_000;
    while (readdirSync(dir).length < 2 && Date.now() < deadline) await Bun.sleep(50);
    expect(readdirSync(dir).some((name) => name.endsWith(".upgrade"))).toBe(true);
    proc.kill("SIGINT");
    expect(await proc.exited).toBe(130);
    expectUntouched(dir, bin);
  });

  test("an install folder the user cannot write: says how to upgrade instead, before downloading anything", async () => {
    // Installed by root into a folder only root may write; run by another user.
    const { dir, bin } = installOld(0o755);
    const { url, id } = site();
    const { exitCode, stderr } = await run(bin, ["upgrade"], url, "nobody");
    expect(exitCode).toBe(1);
    expect(stderr).toContain(`cannot replace ${bin}: ${dir} is not writable`);
    expect(stderr).toContain(`sudo ${bin} upgrade`);
    expect(stderr).toContain("package manager");
    expect(hitsFor(id)).toEqual(["latest"]);
    expectUntouched(dir, bin);
  });

  /** The stubborn --version's pids, once it wrote them. */
  async function stubbornStarted(): Promise<number[]> {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const text = await Bun.file(stubbornPids)
        .text()
        .catch(() => "");
      if (text.trim()) return text.trim().split(" ").map(Number);
      await Bun.sleep(50);
    }
    throw new Error("the stubborn --version did not start");
  }
  /** Running, not a zombie (this machine's init may be slow to reap the orphans). */
  const alive = (pid: number) => {
    try {
      return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch {
      return false;
    }
  };
  /** The pids still running a second after (a SIGKILL sent is not yet a process gone). */
  const survivors = async (pids: number[]) => {
    for (let i = 0; i < 20 && pids.some(alive); i++) await Bun.sleep(50);
    return pids.filter(alive);
  };

  test("a new binary whose --version ignores SIGTERM: killed with what it started after 30 s and a grace; exit 1, one line", async () => {
    rmSync(join(work, "stubborn"), { recursive: true, force: true });
    mkdirSync(join(work, "stubborn"));
    const { dir, bin } = installOld();
    const started = performance.now();
    const { exitCode, stderr } = await run(bin, ["upgrade"], site("stubborn").url);
    const seconds = (performance.now() - started) / 1000;
    expect(exitCode).toBe(1);
    expect(stderr.split("\n").filter((l) => l.startsWith("[error]"))).toEqual([
      "[error] the new binary's --version did not end within 30s and was killed; nothing was changed",
    ]);
    expect(seconds).toBeLessThan(45);
    expect(await survivors(await stubbornStarted())).toEqual([]);
    expectUntouched(dir, bin);
  }, 60_000);

  test("Ctrl-C while the new binary's --version runs: it is killed with what it started, exit 130, nothing left", async () => {
    rmSync(join(work, "stubborn"), { recursive: true, force: true });
    mkdirSync(join(work, "stubborn"));
    const { dir, bin } = installOld();
    const proc = Bun.spawn([bin, "upgrade"], {
      cwd: work,
      env: { ...process.env, AICAGE_UTIL_DOWNLOAD_URL: site("stubborn").url, NO_COLOR: "1" },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const pids = await stubbornStarted();
    expect(pids.filter(alive)).toEqual(pids);
    proc.kill("SIGINT");
    expect(await proc.exited).toBe(130);
    expect(await survivors(pids)).toEqual([]);
    expectUntouched(dir, bin);
  }, 60_000);
});
