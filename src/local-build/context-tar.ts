// The build context as the Engine's `POST /build` takes it: a tar of the context directory,
// filtered by .dockerignore the way the docker CLI filters it, streamed with bounded memory.
//
// Two steps: `scanBuildContext` walks and filters the directory and hashes what it found;
// `tarBuildContext` streams those entries as a tar. `packBuildContext` does both.
import { Buffer } from "node:buffer";
import { createHash, type Hash } from "node:crypto";
import { lstat, open, readFile, readdir, readlink, stat } from "node:fs/promises";
import path from "node:path";
import ignore, { type Ignore } from "@balena/dockerignore";
import { pack, type Pack } from "tar-stream";

export interface ContextEntry {
  /** Path inside the context: forward slashes, no leading `./`, no trailing `/`. */
  path: string;
  type: "file" | "directory" | "symlink";
  /** Permission bits, including setuid, setgid and sticky. */
  mode: number;
  mtime: Date;
  /** Bytes of a regular file; 0 for the other types. */
  size: number;
  /** Where a symlink points, as stored in the link (not followed). */
  linkTarget?: string;
  /** The bytes of a file that is not read from the context directory (a Dockerfile from outside it). */
  content?: Uint8Array;
}

export interface BuildContext {
  /** Absolute path of the context directory. */
  dir: string;
  /** The Dockerfile's path inside the context, forward slashes (the `dockerfile` query parameter). */
  dockerfile: string;
  /** The ignore file that was applied, inside the context; undefined when there is none. */
  ignoreFile?: string;
  /** Everything that goes into the tar, parents before children, names sorted. */
  entries: ContextEntry[];
  /** Number of regular files. */
  files: number;
  /** Sum of the regular files' sizes. */
  bytes: number;
  /**
   * `sha256:<hex>` over every entry's path, type, mode, symlink target and content, in entry
   * order. Modification times are left out, so touching a file does not change it.
   */
  contextHash: string;
}

export interface BuildContextOptions {
  contextDir: string;
  /** The Dockerfile, relative to contextDir (an absolute path inside the context also works). */
  dockerfile: string;
  /**
   * Accept a Dockerfile outside the context: it is then sent inside the tar under a name made
   * from its content (as the docker CLI does), and `BuildContext.dockerfile` names that entry.
   */
  allowDockerfileOutside?: boolean;
}

/** Reads files in chunks of this size: large enough for throughput, small enough to stay bounded. */
const CHUNK_BYTES = 64 * 1024;
/** Hashing reuses one buffer, so it can afford bigger reads (fewer calls for a large file). */
const HASH_CHUNK_BYTES = 1024 * 1024;

/** Scans the context and returns a tar stream of it, ready to be a fetch body. */
export async function packBuildContext(
  opts: BuildContextOptions,
): Promise<BuildContext & { stream: ReadableStream<Uint8Array> }> {
  const context = await scanBuildContext(opts);
  return { ...context, stream: tarBuildContext(context) };
}

/**
 * Walks the context directory, applies the ignore file and hashes the result. Throws an Error
 * naming the path when the context directory or the Dockerfile is missing.
 */
export async function scanBuildContext(opts: BuildContextOptions): Promise<BuildContext> {
  const dir = path.resolve(opts.contextDir);
  await requireContextDir(dir);
  const outside = opts.allowDockerfileOutside ? await dockerfileOutside(dir, opts.dockerfile) : undefined;
  const dockerfile = outside ? outside.path : await requireDockerfile(dir, opts.dockerfile);
  const rules = await loadIgnoreRules(dir, dockerfile);

  const entries: ContextEntry[] = [];
  await walk(dir, "", rules, entries);
  if (outside) entries.push(outside);

  let files = 0;
  let bytes = 0;
  for (const entry of entries) {
    if (entry.type !== "file") continue;
    files += 1;
    bytes += entry.size;
  }
  const contextHash = await hashEntries(dir, entries);
  return { dir, dockerfile, ignoreFile: rules.file, entries, files, bytes, contextHash };
}

async function requireContextDir(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) throw new Error(`build context not found: ${dir}`);
  if (!info.isDirectory()) throw new Error(`build context is not a directory: ${dir}`);
}

/** Returns the Dockerfile's path inside the context, with forward slashes. */
async function requireDockerfile(dir: string, dockerfile: string): Promise<string> {
  const absolute = path.resolve(dir, dockerfile);
  const relative = path.relative(dir, absolute);
  if (relative === "" || relative === ".." || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
    throw new Error(`Dockerfile is not inside the build context ${dir}: ${absolute}`);
  }
  const info = await stat(absolute).catch(() => undefined);
  if (!info || !info.isFile()) throw new Error(`Dockerfile not found: ${absolute}`);
  return relative.split(path.sep).join("/");
}

/** The entry for a Dockerfile outside the context; undefined when it lies inside (the usual case). */
async function dockerfileOutside(dir: string, dockerfile: string): Promise<ContextEntry | undefined> {
  const absolute = path.resolve(dir, dockerfile);
  const relative = path.relative(dir, absolute);
  if (relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative)) return undefined;
  const info = await stat(absolute).catch(() => undefined);
  if (!info || !info.isFile()) throw new Error(`Dockerfile not found: ${absolute}`);
  const content = new Uint8Array(await readFile(absolute));
  // Named by content, not at random, so the context hash stays the same from build to build.
  const name = `.dockerfile.${createHash("sha256").update(content).digest("hex").slice(0, 12)}`;
  return { path: name, type: "file", mode: 0o644, mtime: info.mtime, size: content.length, content };
}

// ---------------------------------------------------------------------------------------------
// .dockerignore

interface IgnoreRules {
  matcher: Ignore;
  /** The `!` patterns, cleaned, to decide whether an excluded directory must still be walked. */
  exceptions: string[];
  /** Sent whatever the patterns say: the Dockerfile and the ignore files, as the docker CLI does. */
  alwaysSent: Set<string>;
  file?: string;
}

/**
 * `<Dockerfile>.dockerignore` next to the Dockerfile wins over the context's `.dockerignore`,
 * as in BuildKit; without either, nothing is excluded.
 */
async function loadIgnoreRules(dir: string, dockerfile: string): Promise<IgnoreRules> {
  const candidates = [`${dockerfile}.dockerignore`, ".dockerignore"];
  const alwaysSent = new Set([dockerfile, ...candidates]);
  // Docker matches case-sensitively; the library defaults to case-insensitive.
  const matcher = ignore({ ignorecase: false });
  for (const candidate of candidates) {
    const text = await readFile(path.join(dir, candidate), "utf8").catch(() => undefined);
    if (text === undefined) continue;
    const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
    matcher.add(lines);
    return { matcher, exceptions: exceptionPatterns(lines), alwaysSent, file: candidate };
  }
  return { matcher, exceptions: [], alwaysSent };
}

function exceptionPatterns(lines: string[]): string[] {
  const patterns: string[] = [];
  for (const raw of lines) {
    if (raw.startsWith("#")) continue;
    const line = raw.trim();
    if (!line.startsWith("!")) continue;
    const pattern = path.posix.normalize(line.slice(1).trim()).replace(/^\/+/, "").replace(/\/+$/, "");
    if (pattern && pattern !== ".") patterns.push(pattern);
  }
  return patterns;
}

/**
 * Whether anything inside the excluded directory `dir` could still be sent. Errs on the side of
 * walking: each path found is checked against the full rules anyway, so an extra walk only costs
 * time. Compares the literal part of each exception (up to its first wildcard) with the directory.
 */
function mayReincludeInside(rules: IgnoreRules, dir: string): boolean {
  const prefix = `${dir}/`;
  for (const sent of rules.alwaysSent) if (sent.startsWith(prefix)) return true;
  const depth = dir.split("/").length;
  return rules.exceptions.some((pattern) => {
    // Without `**` a pattern of n segments only matches paths (or their parents) n deep.
    if (!pattern.includes("**") && pattern.split("/").length <= depth) return false;
    const wildcard = pattern.search(/[*?[\\]/);
    const literal = wildcard === -1 ? pattern : pattern.slice(0, wildcard);
    return literal.startsWith(prefix) || prefix.startsWith(literal);
  });
}

function isSent(rules: IgnoreRules, relPath: string): boolean {
  return rules.alwaysSent.has(relPath) || !rules.matcher.ignores(relPath);
}

// ---------------------------------------------------------------------------------------------
// Walking

async function walk(root: string, relDir: string, rules: IgnoreRules, out: ContextEntry[]): Promise<void> {
  // Sorted names make the entry order, and so the hash and the tar, independent of the filesystem.
  const names = (await readdir(path.join(root, relDir))).sort();
  for (const name of names) {
    const relPath = relDir ? `${relDir}/${name}` : name;
    const absPath = path.join(root, relPath);
    const info = await lstat(absPath);
    const base = { path: relPath, mode: info.mode & 0o7777, mtime: info.mtime, size: 0 };

    if (info.isDirectory()) {
      if (isSent(rules, relPath)) {
        out.push({ ...base, type: "directory" });
        await walk(root, relPath, rules, out);
      } else if (mayReincludeInside(rules, relPath)) {
        // Like the docker CLI: the excluded directory itself is not sent, only what is re-included.
        await walk(root, relPath, rules, out);
      }
    } else if (info.isFile()) {
      if (isSent(rules, relPath)) out.push({ ...base, type: "file", size: info.size });
    } else if (info.isSymbolicLink()) {
      if (isSent(rules, relPath)) out.push({ ...base, type: "symlink", linkTarget: await readlink(absPath) });
    }
    // Sockets, fifos and devices have no place in a build context: left out.
  }
}

// ---------------------------------------------------------------------------------------------
// Hashing

async function hashEntries(root: string, entries: ContextEntry[]): Promise<string> {
  const hash = createHash("sha256");
  const buffer = new Uint8Array(HASH_CHUNK_BYTES);
  for (const entry of entries) {
    // NUL cannot occur in a path, so these fields cannot run into each other.
    hash.update(`${entry.type}\0${entry.path}\0${entry.mode.toString(8)}\0`);
    if (entry.type === "symlink") hash.update(`${entry.linkTarget}\0`);
    if (entry.type === "file") {
      hash.update(`${entry.size}\0`);
      await hashFile(hash, root, entry, buffer);
    }
  }
  return `sha256:${hash.digest("hex")}`;
}

async function hashFile(hash: Hash, root: string, entry: ContextEntry, buffer: Uint8Array): Promise<void> {
  if (entry.content) return void hash.update(entry.content);
  // The hash copies what it is given, so one buffer serves every read.
  for await (const chunk of readChunks(root, entry, () => buffer)) hash.update(chunk);
}

/**
 * Yields exactly `entry.size` bytes of the file, one chunk at a time, in buffers from `nextBuffer`.
 * A file that is now shorter than when it was scanned is an error: the tar header already
 * promised its size.
 */
async function* readChunks(
  root: string,
  entry: ContextEntry,
  nextBuffer: () => Uint8Array,
): AsyncGenerator<Uint8Array> {
  const file = await open(path.join(root, entry.path), "r").catch((error: unknown) => {
    throw changedWhilePacking(entry, error);
  });
  try {
    let position = 0;
    while (position < entry.size) {
      const buffer = nextBuffer();
      const length = Math.min(buffer.byteLength, entry.size - position);
      const { bytesRead } = await file.read(buffer, 0, length, position);
      if (bytesRead === 0) throw changedWhilePacking(entry, new Error("file got shorter"));
      position += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await file.close();
  }
}

function changedWhilePacking(entry: ContextEntry, cause: unknown): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new Error(`build context changed while packing: ${entry.path}: ${reason}`, { cause });
}

// ---------------------------------------------------------------------------------------------
// Tar

/**
 * Streams the scanned entries as a tar. Nothing is read until the consumer pulls, and each file
 * is read a chunk at a time only as fast as the consumer takes the tar, so memory stays bounded
 * whatever the size of the context. Cancelling the stream stops the reading.
 */
export function tarBuildContext(context: BuildContext): ReadableStream<Uint8Array> {
  const packer = pack();
  const chunks = packer[Symbol.asyncIterator]();
  let started = false;

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!started) {
          started = true;
          writeEntries(packer, context).then(
            () => packer.finalize(),
            (error: unknown) => packer.destroy(error instanceof Error ? error : new Error(String(error))),
          );
        }
        // Rejects with the producer's error, which errors this stream.
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value as Uint8Array);
      },
      cancel() {
        packer.destroy();
      },
    },
    // Pull only when the consumer asks: the tar packer's own buffer is the only read-ahead.
    { highWaterMark: 0 },
  );
}

async function writeEntries(packer: Pack, context: BuildContext): Promise<void> {
  for (const entry of context.entries) {
    if (packer.destroyed) return;
    await writeEntry(packer, context.dir, entry);
  }
}

function writeEntry(packer: Pack, root: string, entry: ContextEntry): Promise<void> {
  return new Promise((resolve, reject) => {
    // The callback runs once the entry is fully in the tar, or with the error that stopped it.
    const sink = packer.entry(tarHeader(entry), (error) => (error ? reject(error) : resolve()));
    // Without a listener an entry destroyed with an error would throw it as uncaught.
    sink.on("error", reject);
    // Directories and symlinks are complete with their header.
    if (entry.type !== "file") return;
    writeFileBody(sink, root, entry).then(
      () => sink.end(undefined),
      (error: unknown) => {
        reject(error);
        sink.destroy(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

type EntrySink = ReturnType<Pack["entry"]>;
type EntryHeader = Parameters<Pack["entry"]>[0];

async function writeFileBody(sink: EntrySink, root: string, entry: ContextEntry): Promise<void> {
  if (entry.content) return void sink.write(entry.content);
  // A fresh buffer per chunk: the packer keeps a reference until the consumer has read it.
  for await (const chunk of readChunks(root, entry, () => Buffer.allocUnsafe(CHUNK_BYTES))) {
    if (!sink.write(chunk)) await drained(sink);
  }
}

function drained(sink: EntrySink): Promise<void> {
  return new Promise((resolve, reject) => {
    if (sink.destroyed) return reject(new Error("tar stream closed"));
    const onDrain = () => {
      sink.off("close", onClose);
      resolve();
    };
    const onClose = () => {
      sink.off("drain", onDrain);
      reject(new Error("tar stream closed"));
    };
    sink.once("drain", onDrain);
    sink.once("close", onClose);
  });
}

function tarHeader(entry: ContextEntry): EntryHeader {
  const header: EntryHeader = {
    name: entry.type === "directory" ? `${entry.path}/` : entry.path,
    type: entry.type,
    mode: entry.mode,
    mtime: entry.mtime,
    uid: 0,
    gid: 0,
  };
  if (entry.type === "file") header.size = entry.size;
  if (entry.type === "symlink") header.linkname = entry.linkTarget;
  return header;
}
