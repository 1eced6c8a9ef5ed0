// The build context as the Engine's `POST /build` takes it, step one: walk the context
// directory, filter it by .dockerignore the way the docker CLI does, and hash what is sent.
// Step two, streaming those entries as a tar, is tar.ts.
import { createHash } from "node:crypto";
import { lstat, readdir, readlink, stat } from "node:fs/promises";
import { UsageError } from "../../core/errors.ts";
import path from "node:path";
import { isInside } from "../../lib/paths.ts";
import { fsPathIn, nameFromBytes } from "../../lib/raw-names.ts";
import { FileTooLargeError, NotRegularFileError, readRegularFileAsync } from "../../lib/regular-file.ts";
import { sizeInWords } from "../../lib/text.ts";
import { type IgnoreRules, isSent, isSentOnlyForEngine, loadIgnoreRules, mayReincludeInside } from "./dockerignore.ts";
import type { ContextEntry } from "./context-entry.ts";
import { type DigestCache, type FileStamp, openDigestCache } from "./digest-cache.ts";
import { hashEntries } from "./hash.ts";

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
   * order: what `COPY .` sees when the tar goes to the Engine API. Modification times are left
   * out, so touching a file does not change it.
   */
  contextHash: string;
  /**
   * The same over the entries a builder that reads the folder itself sees (buildx): without
   * those sent only for the engine. Equal to contextHash unless .dockerignore excludes the
   * Dockerfile or itself, or the Dockerfile lies outside the context.
   */
  folderContextHash: string;
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
  /**
   * A file that remembers the content digests of the context's files between builds
   * (digest-cache.ts): an unchanged file is not read for the hash. None: every file is read.
   */
  digestCache?: string;
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
  const cache: DigestCache | undefined = opts.digestCache ? openDigestCache(opts.digestCache) : undefined;
  const contextHash = await hashEntries(dir, entries, cache);
  const forFolder = entries.filter((entry) => !entry.onlyForEngine);
  const folderContextHash =
    forFolder.length === entries.length ? contextHash : await hashEntries(dir, forFolder, cache);
  cache?.save();
  return { dir, dockerfile, ignoreFile: rules.file, entries, files, bytes, contextHash, folderContextHash };
}

async function requireContextDir(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) throw new Error(`build context not found: ${dir}`);
  if (!info.isDirectory()) throw new Error(`build context is not a directory: ${dir}`);
}

/** Returns the Dockerfile's path inside the context, with forward slashes. */
async function requireDockerfile(dir: string, dockerfile: string): Promise<string> {
  const absolute = path.resolve(dir, dockerfile);
  if (!isInside(dir, absolute)) throw new Error(`Dockerfile is not inside the build context ${dir}: ${absolute}`);
  const relative = path.relative(dir, absolute);
  const info = await stat(absolute).catch(() => undefined);
  if (!info?.isFile()) throw new Error(`Dockerfile not found: ${absolute}`);
  return relative.split(path.sep).join("/");
}

/** The entry for a Dockerfile outside the context; undefined when it lies inside (the usual case). */
async function dockerfileOutside(dir: string, dockerfile: string): Promise<ContextEntry | undefined> {
  const absolute = path.resolve(dir, dockerfile);
  if (absolute === dir || isInside(dir, absolute)) return undefined;
  const info = await stat(absolute).catch(() => undefined);
  if (!info?.isFile()) throw new Error(`Dockerfile not found: ${absolute}`);
  const content = await readDockerfile(absolute);
  // Named by content, not at random, so the context hash stays the same from build to build.
  const name = `.dockerfile.${createHash("sha256").update(content).digest("hex").slice(0, 12)}`;
  return {
    path: name,
    type: "file",
    mode: 0o644,
    mtime: info.mtime,
    size: content.length,
    content,
    onlyForEngine: true,
  };
}

/** The largest Dockerfile read (docs/builds.md): it is read whole, to hash it and find its base images. */
export const MAX_DOCKERFILE_BYTES = 16 * 1024 * 1024;

/** A Dockerfile's bytes: a regular file of at most MAX_DOCKERFILE_BYTES, read without blocking on a FIFO. */
export async function readDockerfile(file: string): Promise<Uint8Array> {
  try {
    return await readRegularFileAsync(file, MAX_DOCKERFILE_BYTES);
  } catch (error) {
    if (error instanceof NotRegularFileError)
      throw new UsageError(`Dockerfile ${file} is ${error.kind}, not a regular file`);
    if (error instanceof FileTooLargeError)
      throw new UsageError(`Dockerfile ${file} is larger than ${sizeInWords(MAX_DOCKERFILE_BYTES)}`);
    throw error;
  }
}

async function walk(root: string, relDir: string, rules: IgnoreRules, out: ContextEntry[]): Promise<void> {
  // Names as bytes: one that is not UTF-8 is kept exactly (lib/raw-names.ts), not replaced by
  // U+FFFD (lstat of the replaced name failed with ENOENT). Sorted names make the entry order,
  // and so the hash and the tar, independent of the filesystem.
  const names = (await readdir(fsPathIn(root, relDir), { encoding: "buffer" }))
    .map((name) => nameFromBytes(name))
    .sort();
  for (const name of names) {
    const relPath = relDir ? `${relDir}/${name}` : name;
    const absPath = fsPathIn(root, relPath);
    // In ns (bigint): the digest cache tells file versions apart by their exact times.
    const info = await lstat(absPath, { bigint: true });
    const base = { path: relPath, mode: Number(info.mode) & 0o7777, mtime: info.mtime, size: 0 };

    if (info.isDirectory()) {
      if (isSent(rules, relPath)) {
        out.push({ ...base, type: "directory" });
        await walk(root, relPath, rules, out);
      } else if (mayReincludeInside(rules, relPath)) {
        // Like the docker CLI: the excluded directory itself is not sent, only what is re-included.
        await walk(root, relPath, rules, out);
      }
    } else if (info.isFile()) {
      if (isSent(rules, relPath)) {
        const onlyForEngine = isSentOnlyForEngine(rules, relPath) || undefined;
        const stamp: FileStamp = {
          key: `${info.dev}:${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}`,
          // biome-ignore lint/complexity/useMathMinMax: bigints, which Math.max does not take
          changedMs: Number((info.mtimeNs > info.ctimeNs ? info.mtimeNs : info.ctimeNs) / 1_000_000n),
        };
        out.push({
          ...base,
          type: "file",
          size: Number(info.size),
          stamp,
          ...(onlyForEngine ? { onlyForEngine } : {}),
        });
      }
    } else if (info.isSymbolicLink()) {
      if (isSent(rules, relPath)) {
        out.push({
          ...base,
          type: "symlink",
          linkTarget: nameFromBytes(await readlink(absPath, { encoding: "buffer" })),
        });
      }
    }
    // Sockets, fifos and devices have no place in a build context: left out.
  }
}
