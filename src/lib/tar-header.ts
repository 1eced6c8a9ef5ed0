// Tar headers (POSIX ustar, with a pax extended header where ustar has no room) for names
// given as bytes. tar-stream, used before, writes names as UTF-8 strings only: a file name that
// is not UTF-8 could not travel. Docker reads tar names as raw bytes, so they are written as
// they are on disk.

const BLOCK = 512;

export interface TarHeaderFields {
  /** the name's bytes; a directory's ends with "/" */
  name: Uint8Array;
  type: "file" | "directory" | "symlink";
  mode: number;
  /** bytes of a file; 0 otherwise */
  size: number;
  mtime: Date;
  uid?: number;
  gid?: number;
  /** a symlink's target, as bytes */
  linkname?: Uint8Array;
}

const TYPEFLAG = { file: "0", directory: "5", symlink: "2" } as const;
const MAX_OCTAL_SIZE = 8 ** 11 - 1;
const encoder = new TextEncoder();

/** The header block(s) of one entry: a pax header first when a field does not fit ustar. */
export function tarHeader(fields: TarHeaderFields): Uint8Array {
  const pax: Array<[string, Uint8Array]> = [];
  const split = splitName(fields.name);
  if (!split) pax.push(["path", fields.name]);
  if (fields.linkname && fields.linkname.length > 100) pax.push(["linkpath", fields.linkname]);
  if (fields.size > MAX_OCTAL_SIZE) pax.push(["size", encoder.encode(String(fields.size))]);
  if (pax.some(([, value]) => !isUtf8(value))) pax.unshift(["hdrcharset", encoder.encode("BINARY")]);

  const main = block({
    name: split?.name ?? fields.name.subarray(0, 100),
    prefix: split?.prefix,
    mode: fields.mode,
    uid: fields.uid ?? 0,
    gid: fields.gid ?? 0,
    size: fields.size > MAX_OCTAL_SIZE ? 0 : fields.size,
    mtime: Math.max(0, Math.floor(fields.mtime.getTime() / 1000)),
    typeflag: TYPEFLAG[fields.type],
    linkname: fields.linkname && fields.linkname.length <= 100 ? fields.linkname : fields.linkname?.subarray(0, 100),
  });
  if (pax.length === 0) return main;
  const records = paxRecords(pax);
  const paxHeader = block({
    name: encoder.encode("PaxHeader"),
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: records.length,
    mtime: 0,
    typeflag: "x",
  });
  const out = new Uint8Array(paxHeader.length + padded(records.length) + main.length);
  out.set(paxHeader, 0);
  out.set(records, paxHeader.length);
  out.set(main, paxHeader.length + padded(records.length));
  return out;
}

/** Zero bytes that fill the last block of an entry's content. */
export function padding(size: number): Uint8Array {
  return new Uint8Array(padded(size) - size);
}

/** Two zero blocks end an archive. */
export function endOfArchive(): Uint8Array {
  return new Uint8Array(2 * BLOCK);
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

/** ustar keeps up to 100 bytes of name and 155 of prefix, split at a "/". */
function splitName(name: Uint8Array): { name: Uint8Array; prefix?: Uint8Array } | undefined {
  if (name.length <= 100) return { name };
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== 0x2f) continue;
    const rest = name.length - i - 1;
    if (rest === 0 || rest > 100) continue;
    if (i > 155) continue;
    return { prefix: name.subarray(0, i), name: name.subarray(i + 1) };
  }
  return undefined;
}

function paxRecords(records: Array<[string, Uint8Array]>): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [key, value] of records) {
    // "<length> <key>=<value>\n", where <length> counts itself.
    const rest = encoder.encode(` ${key}=`).length + value.length + 1;
    let length = rest + String(rest).length;
    if (String(length).length !== String(rest).length) length = rest + String(length).length;
    parts.push(encoder.encode(`${length} ${key}=`), value, encoder.encode("\n"));
  }
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function block(fields: {
  name: Uint8Array;
  prefix?: Uint8Array;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname?: Uint8Array;
}): Uint8Array {
  const out = new Uint8Array(BLOCK);
  out.set(fields.name, 0);
  out.set(octal(fields.mode & 0o7777, 8), 100);
  out.set(octal(fields.uid, 8), 108);
  out.set(octal(fields.gid, 8), 116);
  out.set(octal(fields.size, 12), 124);
  out.set(octal(fields.mtime, 12), 136);
  out.set(encoder.encode("        "), 148);
  out.set(encoder.encode(fields.typeflag), 156);
  if (fields.linkname) out.set(fields.linkname, 157);
  out.set(encoder.encode("ustar\u000000"), 257);
  if (fields.prefix) out.set(fields.prefix, 345);
  let sum = 0;
  for (const byte of out) sum += byte;
  out.set(encoder.encode(`${sum.toString(8).padStart(6, "0")}\u0000 `), 148);
  return out;
}

/** An octal number in a field of `width` bytes: digits, then NUL. */
function octal(value: number, width: number): Uint8Array {
  return encoder.encode(`${value.toString(8).padStart(width - 1, "0")}\u0000`);
}

function isUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}
