// File names are bytes, and on Linux they need not be UTF-8. A JavaScript string holds them
// without loss the way Python's "surrogateescape" does: valid UTF-8 is decoded as usual, and
// each byte that is not part of valid UTF-8 becomes U+DC80-U+DCFF (a lone low surrogate, which
// no valid UTF-8 decodes to). Matching (.dockerignore) works on such strings, and the bytes come
// back unchanged for the filesystem and the tar header.
import { Buffer } from "node:buffer";

const strict = new TextDecoder("utf-8", { fatal: true });

/** The name as a string; bytes that are not UTF-8 are kept as U+DC80-U+DCFF. */
export function nameFromBytes(bytes: Uint8Array): string {
  try {
    return strict.decode(bytes);
  } catch {
    return decodeEscaping(bytes);
  }
}

/** The bytes of a name made by nameFromBytes (or any string): escaped bytes as themselves, the rest UTF-8. */
export function bytesOfName(name: string): Uint8Array {
  if (!/[\udc80-\udcff]/.test(name)) return new TextEncoder().encode(name);
  const parts: number[] = [];
  for (const piece of name.split(/([\udc80-\udcff])/)) {
    if (piece.length === 1 && piece.charCodeAt(0) >= 0xdc80 && piece.charCodeAt(0) <= 0xdcff)
      parts.push(piece.charCodeAt(0) - 0xdc00);
    else for (const byte of new TextEncoder().encode(piece)) parts.push(byte);
  }
  return new Uint8Array(parts);
}

/** A path for node:fs that reaches the file whatever bytes its name holds. */
export function fsPath(name: string): string | Buffer {
  return /[\udc80-\udcff]/.test(name) ? Buffer.from(bytesOfName(name)) : name;
}

/**
 * `root/relative` for node:fs. Not path.join: Bun's replaces the escaped bytes with U+FFFD, and
 * the file is then not found.
 */
export function fsPathIn(root: string, relative: string): string | Buffer {
  return fsPath(relative ? `${root.replace(/\/+$/, "")}/${relative}` : root);
}

/** Whether the name holds bytes that are not UTF-8. */
export function hasRawBytes(name: string): boolean {
  return /[\udc80-\udcff]/.test(name);
}

function decodeEscaping(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  while (i < bytes.length) {
    const length = validSequenceLength(bytes, i);
    if (length === 0) {
      out += String.fromCharCode(0xdc00 + bytes[i]!);
      i += 1;
    } else {
      out += strict.decode(bytes.subarray(i, i + length));
      i += length;
    }
  }
  return out;
}

/** The length of the valid UTF-8 sequence at `i` (RFC 3629: no overlongs, no surrogates, at most U+10FFFF), or 0. */
function validSequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i]!;
  if (b0 < 0x80) return 1;
  const cont = (k: number, low = 0x80, high = 0xbf) =>
    i + k < bytes.length && bytes[i + k]! >= low && bytes[i + k]! <= high;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((b0 >= 0xe1 && b0 <= 0xec) || b0 === 0xee || b0 === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (b0 === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (b0 === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b0 >= 0xf1 && b0 <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b0 === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}
