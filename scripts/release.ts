#!/usr/bin/env bun
// Compiles the release binaries of aicage-util and writes their SHA256SUMS.
//
//   bun scripts/release.ts [--out dist/release] [--targets linux-x64,darwin-arm64|host]
//                          [--version X] [--digests-file F]
//                          [--sign SECRET_KEY_FILE] [--public-key FILE]
//   bun scripts/release.ts --generate-key SECRET_KEY_FILE --public-key FILE
//
// Every target is cross-compiled from this one machine with `bun build --compile
// --minify --bytecode`; Bun fetches the runtime of a foreign target from the npm
// registry on first use (about 100 MiB each, cached in ~/.bun/install/cache). The
// version (a leading "v" dropped), git revision and util image digests are baked in
// as the constants src/core/tool-info.ts reads. The binary of this machine's target is
// run with --version before its checksum is written. The output folder loses only
// earlier aicage-util-* assets, SHA256SUMS, SHA256SUMS.minisig and install.sh.
//
// Signing: the release public key (minisign's format; keys/release.pub, or --public-key) is
// compiled into every binary (`upgrade` checks SHA256SUMS.minisig with it) and written into the
// copy of scripts/install.sh this script puts beside the binaries. --sign signs SHA256SUMS with
// the matching secret key, in minisign's format (`minisign -Vm SHA256SUMS -p keys/release.pub`
// verifies it). The secret key file is an Ed25519 private key as PKCS#8 PEM (what
// `openssl genpkey -algorithm ed25519` writes); the key id is the public key file's. A secret
// key that does not match the public key is refused. --generate-key writes a new pair: the
// secret key (mode 0600) and the public key file; neither may exist yet.
// Exit codes: 0 built, 1 build failed, 2 bad arguments.
import { createPrivateKey, randomBytes, generateKeyPairSync, type KeyObject } from "node:crypto";
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
// Image kinds whose digests a release may carry: the util images this source builds.
import { UTIL_IMAGE_KINDS } from "../src/util-images/catalog.ts";
// Target and asset names have one home, shared with `aicage-util upgrade`.
import {
  ASSET_PREFIX,
  SIGNATURE_FILE,
  SUMS_FILE,
  TARGETS,
  assetName,
  hostTarget,
} from "../src/self-update/release-targets.ts";
// Signatures in minisign's format: one implementation, shared with `upgrade`'s check.
import {
  type MinisignPublicKey,
  formatPublicKey,
  keyIdHex,
  parsePublicKey,
  publicKeyLine,
  rawPublicKey,
  signMessage,
  verifySignature,
} from "../src/self-update/minisign.ts";

export { TARGETS, assetName, hostTarget };

const ROOT = path.resolve(import.meta.dir, "..");
const ENTRY = path.join(ROOT, "src", "cli.ts");
const INSTALLER = path.join(ROOT, "scripts", "install.sh");
export const DEFAULT_PUBLIC_KEY = path.join(ROOT, "keys", "release.pub");
/** The line of install.sh that carries the release key; release.ts rewrites it in the copy it publishes. */
const INSTALLER_KEY_LINE = /^RELEASE_PUBLIC_KEY=.*$/m;

class UsageError extends Error {}

/** Normalises a release version: a tag like v1.2.3 becomes 1.2.3. */
export function normaliseVersion(raw: string): string {
  const version = raw.trim().replace(/^v(?=\d)/, "");
  if (!/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.test(version)) {
    throw new UsageError(`--version ${JSON.stringify(raw)} is not a version like 1.2.3 or v1.2.3-rc.1`);
  }
  return version;
}

function parseTargets(raw: string | undefined): string[] {
  if (raw === undefined) return Object.keys(TARGETS);
  const wanted = raw
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);
  if (wanted.length === 0) throw new UsageError("--targets is empty");
  const out: string[] = [];
  for (let name of wanted) {
    if (name === "host") {
      const host = hostTarget();
      if (!host) throw new UsageError(`no release target matches this machine (${process.platform}-${process.arch})`);
      name = host;
    }
    name = name.replace(/^bun-/, "");
    if (!(name in TARGETS)) {
      throw new UsageError(`unknown target ${JSON.stringify(name)}; known: ${Object.keys(TARGETS).join(", ")}, host`);
    }
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

async function readDigests(file: string | undefined): Promise<Record<string, string> | undefined> {
  if (file === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await Bun.file(file).text());
  } catch (err) {
    throw new UsageError(`cannot read digests file ${file}: ${(err as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`digests file ${file} must hold a JSON object of image kind to digest`);
  }
  const digests: Record<string, string> = {};
  for (const [kind, digest] of Object.entries(parsed)) {
    if (!(UTIL_IMAGE_KINDS as readonly string[]).includes(kind)) {
      throw new UsageError(
        `digests file ${file}: unknown image kind ${JSON.stringify(kind)} (known: ${UTIL_IMAGE_KINDS.join(", ")})`,
      );
    }
    if (typeof digest !== "string" || !/^sha256:[0-9a-f]{64}$/.test(digest)) {
      throw new UsageError(`digests file ${file}: ${kind} is not a sha256:<64 hex> digest`);
    }
    digests[kind] = digest;
  }
  return digests;
}

function run(cmd: string[], cwd = ROOT): { ok: boolean; stdout: string; stderr: string } {
  try {
    const proc = Bun.spawnSync(cmd, { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    return { ok: proc.exitCode === 0, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
  } catch (err) {
    // The program itself is missing (git on a bare machine, say).
    return { ok: false, stdout: "", stderr: (err as Error).message };
  }
}

/** Short git revision, with -dirty when tracked files differ from HEAD; "unknown" outside git. */
export function gitRevision(cwd = ROOT): string {
  const head = run(["git", "rev-parse", "--short", "HEAD"], cwd);
  if (!head.ok || !head.stdout.trim()) return "unknown";
  const status = run(["git", "status", "--porcelain", "--untracked-files=no"], cwd);
  const dirty = !status.ok || status.stdout.trim() !== "";
  return head.stdout.trim() + (dirty ? "-dirty" : "");
}

async function sha256Hex(file: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(file).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

function formatBytes(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

async function removeOldAssets(outDir: string): Promise<void> {
  // Only what this script writes: the folder may hold other files (install.sh, notes).
  for (const name of await readdir(outDir)) {
    if (name.startsWith(ASSET_PREFIX) || [SUMS_FILE, SIGNATURE_FILE, "install.sh"].includes(name)) {
      await rm(path.join(outDir, name), { force: true, recursive: true });
    }
  }
}

async function compile(target: string, outFile: string, defines: Record<string, string>): Promise<void> {
  const cmd = [
    process.execPath,
    "build",
    "--compile",
    // What each flag buys, measured on the 2-core test machine (Bun 1.4.4, 2026-11-26, means
    // of 40 runs; `--version` / `completion bash`, which loads every command):
    //   none 67 / 104 ms; --minify 64 / 97; --bytecode 24 / 42; --minify --bytecode 23 / 49;
    //   --minify --splitting 9.0 / 95; all three 8.1 / 35 ms (docker --version: 19.6 ms).
    // --splitting keeps a command's modules out of the entry chunk, so `--version` parses
    // almost nothing; --bytecode skips parsing whatever does load (2 MiB more); --minify
    // buys little time but 0.2 MiB and stays on. ESM keeps top-level await.
    "--minify",
    "--bytecode",
    "--format=esm",
    // The entry installs its signal handlers, then imports the rest: split into chunks, the
    // handlers are in place a few ms after exec instead of after the whole bundle is parsed
    // (about 16 ms, 50 ms on a loaded machine), the window in which a Ctrl-C could be lost.
    "--splitting",
    `--target=${TARGETS[target]}`,
    // A CLI run in someone's project must not pick up that project's .env or bunfig.toml.
    "--no-compile-autoload-dotenv",
    "--no-compile-autoload-bunfig",
    `--outfile=${outFile}`,
  ];
  // The target, so that `upgrade` downloads the same kind of binary it replaces.
  cmd.push(`--define=AICAGE_UTIL_TARGET=${JSON.stringify(target)}`);
  for (const [name, value] of Object.entries(defines)) cmd.push(`--define=${name}=${JSON.stringify(value)}`);
  cmd.push(ENTRY);
  const result = run(cmd);
  if (!result.ok) {
    const lines = `${result.stderr}\n${result.stdout}`
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean);
    const picked = lines.filter((l) => /^error\b/i.test(l) || /^at \//.test(l));
    const detail = (picked.length ? picked : lines.slice(-2)).slice(0, 3).join("; ");
    throw new Error(`bun build for ${target} failed: ${detail || "no output"}`);
  }
}

function smokeTest(file: string, version: string): void {
  const result = run([file, "--version"]);
  if (!result.ok) {
    throw new Error(
      `${path.basename(file)} --version failed: ${(result.stderr || result.stdout).trim() || "no output"}`,
    );
  }
  if (!result.stdout.includes(version)) {
    throw new Error(
      `${path.basename(file)} --version printed ${JSON.stringify(result.stdout.trim())}, not version ${version}`,
    );
  }
}

async function readPublicKey(file: string): Promise<MinisignPublicKey> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read public key ${file}: ${(err as Error).message}`);
  }
  const key = parsePublicKey(text);
  if (!key)
    throw new UsageError(
      `${file} is not a minisign public key (an untrusted comment line, then base64 of "Ed", key id and key)`,
    );
  return key;
}

/** The secret key of --sign: an Ed25519 private key as PKCS#8 PEM, which must match the public key. */
async function readSecretKey(file: string, publicKey: MinisignPublicKey): Promise<KeyObject> {
  let key: KeyObject;
  try {
    key = createPrivateKey(await readFile(file, "utf8"));
  } catch (err) {
    throw new UsageError(
      `cannot read secret key ${file} (an Ed25519 private key as PKCS#8 PEM): ${(err as Error).message}`,
    );
  }
  if (key.asymmetricKeyType !== "ed25519") {
    throw new UsageError(`secret key ${file} is a ${key.asymmetricKeyType} key, not Ed25519`);
  }
  if (!Buffer.from(rawPublicKey(key)).equals(Buffer.from(publicKey.key))) {
    throw new UsageError(
      `secret key ${file} does not belong to the public key ${keyIdHex(publicKey.keyId)}; refusing to sign`,
    );
  }
  return key;
}

/** --generate-key: a new key pair, the secret one readable by its owner only. */
async function generateKey(secretFile: string, publicFile: string): Promise<void> {
  for (const file of [secretFile, publicFile]) {
    if (await Bun.file(file).exists()) throw new UsageError(`${file} exists; refusing to overwrite a key`);
  }
  const { privateKey } = generateKeyPairSync("ed25519");
  const publicKey = { keyId: new Uint8Array(randomBytes(8)), key: rawPublicKey(privateKey) };
  await mkdir(path.dirname(path.resolve(secretFile)), { recursive: true });
  await writeFile(secretFile, privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600, flag: "wx" });
  await chmod(secretFile, 0o600);
  await mkdir(path.dirname(path.resolve(publicFile)), { recursive: true });
  await writeFile(publicFile, formatPublicKey(publicKey), { flag: "wx" });
  console.log(`release: key ${keyIdHex(publicKey.keyId)}: secret ${secretFile} (0600), public ${publicFile}`);
}

/** SHA256SUMS.minisig beside SHA256SUMS, checked once more as `upgrade` will check it. */
async function signSums(outDir: string, version: string, secretKey: KeyObject, publicKey: MinisignPublicKey) {
  const sums = await readFile(path.join(outDir, SUMS_FILE));
  const comment = `timestamp:${Math.floor(Date.now() / 1000)}\tfile:${SUMS_FILE}\trelease:v${version}\thashed`;
  const signature = signMessage(sums, secretKey, publicKey.keyId, comment);
  const check = verifySignature(sums, signature, publicKey);
  if (!check.ok) throw new Error(`the signature just made does not verify: ${check.detail}`);
  await writeFile(path.join(outDir, SIGNATURE_FILE), signature);
}

/** install.sh as published: scripts/install.sh with this release's public key in it. */
async function writeInstaller(outDir: string, publicKey: MinisignPublicKey): Promise<void> {
  const text = await readFile(INSTALLER, "utf8");
  if (!INSTALLER_KEY_LINE.test(text)) throw new Error(`${INSTALLER} has no RELEASE_PUBLIC_KEY= line`);
  const out = path.join(outDir, "install.sh");
  await writeFile(out, text.replace(INSTALLER_KEY_LINE, `RELEASE_PUBLIC_KEY=${publicKeyLine(publicKey)}`));
  await chmod(out, 0o755);
}

async function main(argv: string[]): Promise<void> {
  let opts: {
    out?: string;
    targets?: string;
    version?: string;
    "digests-file"?: string;
    sign?: string;
    "public-key"?: string;
    "generate-key"?: string;
    help?: boolean;
  };
  try {
    opts = parseArgs({
      args: argv,
      options: {
        out: { type: "string" },
        targets: { type: "string" },
        version: { type: "string" },
        "digests-file": { type: "string" },
        sign: { type: "string" },
        "public-key": { type: "string" },
        "generate-key": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (opts.help) {
    console.log(
      "usage: bun scripts/release.ts [--out DIR] [--targets T1,T2|host] [--version X] [--digests-file F]\n" +
        "                              [--sign SECRET_KEY_FILE] [--public-key FILE]\n" +
        "       bun scripts/release.ts --generate-key SECRET_KEY_FILE --public-key FILE\n" +
        `targets: ${Object.keys(TARGETS).join(", ")} (default: all)`,
    );
    return;
  }
  if (opts["generate-key"] !== undefined) {
    if (opts["public-key"] === undefined) throw new UsageError("--generate-key needs --public-key FILE");
    await generateKey(opts["generate-key"], opts["public-key"]);
    return;
  }

  const publicKey = await readPublicKey(opts["public-key"] ?? DEFAULT_PUBLIC_KEY);
  const secretKey = opts.sign === undefined ? undefined : await readSecretKey(opts.sign, publicKey);
  const pkg = (await Bun.file(path.join(ROOT, "package.json")).json()) as { version: string };
  const version = normaliseVersion(opts.version ?? pkg.version);
  const targets = parseTargets(opts.targets);
  const digests = await readDigests(opts["digests-file"]);
  const outDir = path.resolve(opts.out ?? path.join(ROOT, "dist", "release"));
  if (!(await Bun.file(ENTRY).exists())) throw new Error(`entry point ${ENTRY} does not exist`);

  const revision = gitRevision();
  const defines: Record<string, string> = {
    AICAGE_UTIL_VERSION: version,
    AICAGE_UTIL_REVISION: revision,
    AICAGE_UTIL_RELEASE_KEY: publicKeyLine(publicKey),
  };
  if (digests && Object.keys(digests).length > 0) defines.AICAGE_UTIL_IMAGE_DIGESTS = JSON.stringify(digests);

  await mkdir(outDir, { recursive: true });
  await removeOldAssets(outDir);
  console.log(`release: aicage-util ${version} (${revision}) -> ${outDir}`);

  const host = hostTarget();
  const sums: string[] = [];
  const started = performance.now();
  for (const target of targets) {
    const asset = assetName(target);
    const file = path.join(outDir, asset);
    const t0 = performance.now();
    await compile(target, file, defines);
    await chmod(file, 0o755);
    if (target === host) smokeTest(file, version);
    const size = (await stat(file)).size;
    sums.push(`${await sha256Hex(file)}  ${asset}`);
    console.log(
      `  ${asset.padEnd(34)} ${formatBytes(size).padStart(10)}  ${((performance.now() - t0) / 1000).toFixed(1)}s`,
    );
  }
  sums.sort((a, b) => a.slice(66).localeCompare(b.slice(66)));
  await Bun.write(path.join(outDir, SUMS_FILE), `${sums.join("\n")}\n`);
  if (secretKey) await signSums(outDir, version, secretKey, publicKey);
  await writeInstaller(outDir, publicKey);
  console.log(
    `release: ${targets.length} target(s) in ${((performance.now() - started) / 1000).toFixed(1)}s, ${SUMS_FILE}${
      secretKey ? ` and ${SIGNATURE_FILE} (key ${keyIdHex(publicKey.keyId)})` : " (unsigned: no --sign)"
    } and install.sh written`,
  );
}

if (import.meta.main) {
  try {
    await main(Bun.argv.slice(2));
  } catch (err) {
    console.error(`release: error: ${(err as Error).message}`);
    process.exit(err instanceof UsageError ? 2 : 1);
  }
}
