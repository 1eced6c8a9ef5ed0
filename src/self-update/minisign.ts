// Signatures in minisign's format (https://jedisct1.github.io/minisign/), made and checked with
// node:crypto alone (Ed25519 and BLAKE2b-512 are there under Bun, Deno and Node), so that
// `upgrade` needs no minisign binary and no dependency, and `minisign -V` verifies what
// scripts/release.ts signs.
//
//   public key:  "untrusted comment: …" line, then base64("Ed" ‖ key id (8) ‖ Ed25519 key (32))
//   signature:   "untrusted comment: …" line,
//                base64("ED" ‖ key id (8) ‖ Ed25519 signature of BLAKE2b-512(file) (64)),
//                "trusted comment: <text>" line,
//                base64(Ed25519 signature of (the signature above ‖ <text>) (64))
// "Ed" instead of "ED" (the legacy form: the file itself signed, not its hash) is accepted too,
// as minisign does.
import { createHash, createPublicKey, type KeyObject, sign, verify } from "node:crypto";

export interface MinisignPublicKey {
  keyId: Uint8Array;
  key: Uint8Array;
}

/** One line for each way a signature can fail; `detail` says what was found. */
export type SignatureCheck =
  | { ok: true; trustedComment: string }
  | { ok: false; problem: "malformed" | "other-key" | "bad-signature"; detail: string };

// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): 12 bytes, then the raw key.
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** A key id as minisign prints it: the 8 bytes as a little-endian number, in upper-case hex. */
export function keyIdHex(keyId: Uint8Array): string {
  return Buffer.from(keyId).reverse().toString("hex").toUpperCase();
}

function base64Line(text: string): Buffer | undefined {
  const line = text.trim();
  return /^[A-Za-z0-9+/]+={0,2}$/.test(line) ? Buffer.from(line, "base64") : undefined;
}

/** A public key file (comment line and key line) or the key line alone; undefined when it is neither. */
export function parsePublicKey(text: string): MinisignPublicKey | undefined {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const keyLine = lines[0]?.startsWith("untrusted comment:") ? lines[1] : lines[0];
  if (keyLine === undefined || lines.length > (keyLine === lines[0] ? 1 : 2)) return undefined;
  const bytes = base64Line(keyLine);
  if (bytes?.length !== 42 || bytes.subarray(0, 2).toString("latin1") !== "Ed") return undefined;
  return { keyId: new Uint8Array(bytes.subarray(2, 10)), key: new Uint8Array(bytes.subarray(10)) };
}

/** The public key file minisign -G writes. */
export function formatPublicKey(publicKey: MinisignPublicKey): string {
  const body = Buffer.concat([Buffer.from("Ed", "latin1"), publicKey.keyId, publicKey.key]).toString("base64");
  return `untrusted comment: minisign public key ${keyIdHex(publicKey.keyId)}\n${body}\n`;
}

/** The key line of a public key: what `minisign -P` takes, and what install.sh carries. */
export function publicKeyLine(publicKey: MinisignPublicKey): string {
  return formatPublicKey(publicKey).split("\n")[1] as string;
}

function publicKeyObject(publicKey: MinisignPublicKey): KeyObject {
  return createPublicKey({
    key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey.key]),
    format: "der",
    type: "spki",
  });
}

/** The raw 32 bytes of an Ed25519 key object's public half. */
export function rawPublicKey(key: KeyObject): Uint8Array {
  const der = createPublicKey(key).export({ format: "der", type: "spki" });
  return new Uint8Array(der.subarray(ED25519_SPKI_PREFIX.length));
}

const blake2b512 = (data: Uint8Array) => createHash("blake2b512").update(data).digest();

interface ParsedSignature {
  algorithm: "ED" | "Ed";
  keyId: Uint8Array;
  signature: Uint8Array;
  trustedComment: string;
  globalSignature: Uint8Array;
}

function parseSignature(text: string): ParsedSignature | string {
  const lines = text.split(/\r?\n/);
  if (lines.length < 4 || !lines[0]?.startsWith("untrusted comment:"))
    return "it does not start with an untrusted comment line";
  const sig = base64Line(lines[1] ?? "");
  if (sig?.length !== 74) return "its second line is not a base64 signature of 74 bytes";
  const algorithm = sig.subarray(0, 2).toString("latin1");
  if (algorithm !== "ED" && algorithm !== "Ed") return `its signature algorithm '${algorithm}' is not Ed25519`;
  const trusted = /^trusted comment: (.*)$/.exec(lines[2] ?? "");
  if (!trusted) return "its third line is not a trusted comment";
  const global = base64Line(lines[3] ?? "");
  if (global?.length !== 64) return "its fourth line is not a base64 global signature of 64 bytes";
  return {
    algorithm,
    keyId: new Uint8Array(sig.subarray(2, 10)),
    signature: new Uint8Array(sig.subarray(10)),
    trustedComment: trusted[1] as string,
    globalSignature: new Uint8Array(global),
  };
}

/** Checks a minisign signature of `message` against `publicKey`, as `minisign -V` does. */
export function verifySignature(
  message: Uint8Array,
  signatureText: string,
  publicKey: MinisignPublicKey,
): SignatureCheck {
  const parsed = parseSignature(signatureText);
  if (typeof parsed === "string") return { ok: false, problem: "malformed", detail: parsed };
  if (!Buffer.from(parsed.keyId).equals(Buffer.from(publicKey.keyId))) {
    return {
      ok: false,
      problem: "other-key",
      detail: `signed by key ${keyIdHex(parsed.keyId)}, not by the release key ${keyIdHex(publicKey.keyId)}`,
    };
  }
  const key = publicKeyObject(publicKey);
  const signed = parsed.algorithm === "ED" ? blake2b512(message) : message;
  if (!verify(null, signed, key, parsed.signature)) {
    return { ok: false, problem: "bad-signature", detail: "the signature does not match the file's bytes" };
  }
  const comment = Buffer.concat([parsed.signature, Buffer.from(parsed.trustedComment, "utf8")]);
  if (!verify(null, comment, key, parsed.globalSignature)) {
    return { ok: false, problem: "bad-signature", detail: "the trusted comment was changed after signing" };
  }
  return { ok: true, trustedComment: parsed.trustedComment };
}

/** A prehashed ("ED") minisign signature of `message`, as `minisign -S` writes it. */
export function signMessage(
  message: Uint8Array,
  secretKey: KeyObject,
  keyId: Uint8Array,
  trustedComment: string,
): string {
  if (/[\r\n]/.test(trustedComment)) throw new Error("a trusted comment is one line");
  const signature = sign(null, blake2b512(message), secretKey);
  const global = sign(null, Buffer.concat([signature, Buffer.from(trustedComment, "utf8")]), secretKey);
  const line = Buffer.concat([Buffer.from("ED", "latin1"), keyId, signature]).toString("base64");
  return [
    `untrusted comment: signature from minisign secret key ${keyIdHex(keyId)}`,
    line,
    `trusted comment: ${trustedComment}`,
    global.toString("base64"),
    "",
  ].join("\n");
}
