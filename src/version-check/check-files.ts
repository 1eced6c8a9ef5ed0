// The files of a check container, sent as one tar through the Engine API before it starts
// (so an engine that cannot see this machine's paths gets them too). Each agent n gets its
// own user and group (uid = gid = AGENT_ID_BASE + n) and:
//   /aicage/agents/<n>   a copy of its folder: owned by root, readable by its group only, so
//                        its script can read it but change nothing, and no other agent can look
//   /aicage/home/<n>     its HOME, /aicage/tmp/<n> its TMPDIR: its own, mode 0700
//   /aicage/results      root only: the runner keeps every script's output here
//   /aicage/variables    root only: one file per host variable each script gets (a token, a
//                        proxy), which the runner reads, removes, and exports into each
//                        script's own environment: never in the container's configuration
// The tar's owners and modes are what the engine writes; nothing is chowned at run time.
import { open } from "node:fs/promises";
import { constants } from "node:fs";
import { pack, type Pack } from "tar-stream";
import type { AgentFolder, FolderEntry } from "./agent-folder.ts";

export const CHECK_ROOT = "/aicage";
export const AGENT_ID_BASE = 10100;
const agentUid = (n: number) => AGENT_ID_BASE + n;

const CHUNK_BYTES = 64 * 1024;
const EPOCH = new Date(0);

type EntryHeader = Parameters<Pack["entry"]>[0];
type EntrySink = ReturnType<Pack["entry"]>;

interface TarItem {
  header: EntryHeader;
  /** read from this machine when the entry is written */
  entry?: FolderEntry;
  /** bytes made here (the host's registry set-up) */
  content?: Uint8Array;
}

/** A file every agent may read (the host's registry settings and CAs), with its absolute path. */
export interface SharedFile {
  path: string;
  content: Uint8Array;
}

/** Where the files every agent shares go: readable by all, writable by none (root's). */
export const SHARED_ROOT = `${CHECK_ROOT}/shared`;

/** Where the host variables go, one file each, named by the variable: root's alone. */
export const VARIABLES_ROOT = `${CHECK_ROOT}/variables`;

/** A host variable for every script, carried as a file: its name (checked: a variable name) and value. */
export interface VariableFile {
  name: string;
  value: string;
}

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function* variableItems(variables: VariableFile[]): Generator<TarItem> {
  yield {
    header: { name: `${VARIABLES_ROOT.slice(1)}/`, type: "directory", mode: 0o700, uid: 0, gid: 0, mtime: EPOCH },
  };
  for (const variable of variables) {
    const content = Buffer.from(variable.value, "utf8");
    yield {
      header: {
        name: `${VARIABLES_ROOT.slice(1)}/${variable.name}`,
        type: "file",
        mode: 0o600,
        uid: 0,
        gid: 0,
        mtime: EPOCH,
        size: content.length,
      },
      content,
    };
  }
}

function* items(folders: AgentFolder[], shared: SharedFile[], variables: VariableFile[]): Generator<TarItem> {
  const dir = (name: string, mode: number, uid = 0, gid = 0): TarItem => ({
    header: { name: `${name}/`, type: "directory", mode, uid, gid, mtime: EPOCH },
  });
  // 0711: a script may pass through to its own folders but list nobody's.
  yield dir("aicage", 0o711);
  yield dir("aicage/results", 0o700);
  for (const top of ["agents", "home", "tmp"]) yield dir(`aicage/${top}`, 0o711);
  yield* variableItems(variables);
  const made = new Set<string>();
  for (const file of shared) {
    const name = file.path.replace(/^\/+/, "");
    if (!name.startsWith(`${SHARED_ROOT.slice(1)}/`))
      throw new Error(`a shared file must lie under ${SHARED_ROOT}: ${file.path}`);
    const parts = name.split("/");
    for (let i = 2; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      if (made.has(parent)) continue;
      made.add(parent);
      yield dir(parent, 0o755);
    }
    yield {
      header: { name, type: "file", mode: 0o644, uid: 0, gid: 0, mtime: EPOCH, size: file.content.length },
      content: file.content,
    };
  }
  for (const [n, folder] of folders.entries()) {
    const id = agentUid(n);
    yield dir(`aicage/home/${n}`, 0o700, id, id);
    yield dir(`aicage/tmp/${n}`, 0o700, id, id);
    yield dir(`aicage/agents/${n}`, 0o750, 0, id);
    for (const entry of folder.entries) {
      const name = `aicage/agents/${n}/${entry.path}`;
      // Root's, read-only for the agent's group; execute bits kept, set-id bits never.
      const mode = entry.type === "file" ? (entry.executable ? 0o750 : 0o640) : 0o750;
      const header: EntryHeader = { name, type: entry.type, mode, uid: 0, gid: id, mtime: EPOCH };
      if (entry.type === "directory") header.name = `${name}/`;
      if (entry.type === "symlink") header.linkname = entry.linkTarget;
      yield { header, entry: entry.type === "file" ? entry : undefined };
    }
  }
}

/**
 * The tar of every agent folder and the per-agent folders, streamed: files are read a chunk at
 * a time as the engine takes the upload. A file that changed since the scan is copied as it is
 * now if it still fits the size seen then, else the upload fails naming it.
 */
export function checkFilesArchive(
  folders: AgentFolder[],
  shared: SharedFile[] = [],
  variables: VariableFile[] = [],
): ReadableStream<Uint8Array> {
  // A variable's name becomes a path and the runner's `export NAME=…`: nothing else gets through.
  if (variables.some((v) => !VARIABLE_NAME.test(v.name))) throw new Error("a forwarded variable's name is not a name");
  const packer = pack();
  const chunks = packer[Symbol.asyncIterator]();
  let started = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!started) {
          started = true;
          writeItems(packer, items(folders, shared, variables)).then(
            () => packer.finalize(),
            (error: unknown) => packer.destroy(error instanceof Error ? error : new Error(String(error))),
          );
        }
        const next = await chunks.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value as Uint8Array);
      },
      cancel() {
        packer.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}

async function writeItems(packer: Pack, all: Iterable<TarItem>): Promise<void> {
  for (const item of all) {
    if (packer.destroyed) return;
    if (!item.entry) {
      const done = (resolve: () => void, reject: (error: Error) => void) => (error?: Error | null) =>
        error ? reject(error) : resolve();
      await new Promise<void>((resolve, reject) =>
        item.content
          ? packer.entry(item.header, Buffer.from(item.content), done(resolve, reject))
          : packer.entry(item.header, done(resolve, reject)),
      );
      continue;
    }
    await writeFile(packer, item.header, item.entry);
  }
}

async function writeFile(packer: Pack, header: EntryHeader, entry: FolderEntry): Promise<void> {
  // Never through a symlink put there since the scan (the script alone was followed then).
  const flags = constants.O_RDONLY | constants.O_NONBLOCK | (entry.follow ? 0 : constants.O_NOFOLLOW);
  const file = await open(entry.source, flags).catch((error: unknown) => {
    throw changed(entry, error);
  });
  try {
    const stats = await file.stat();
    if (!stats.isFile()) throw changed(entry, new Error("no longer a regular file"));
    if (stats.size > entry.size) throw changed(entry, new Error(`grew from ${entry.size} to ${stats.size} bytes`));
    await new Promise<void>((resolve, reject) => {
      const sink = packer.entry({ ...header, size: stats.size }, (error) => (error ? reject(error) : resolve()));
      sink.on("error", reject);
      copyChunks(file, stats.size, sink).then(
        () => sink.end(undefined),
        (error: unknown) => {
          reject(error);
          sink.destroy(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  } finally {
    await file.close();
  }
}

async function copyChunks(file: Awaited<ReturnType<typeof open>>, size: number, sink: EntrySink): Promise<void> {
  let position = 0;
  while (position < size) {
    const buffer = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, size - position));
    const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) throw new Error("got shorter while it was copied");
    position += bytesRead;
    if (!sink.write(buffer.subarray(0, bytesRead))) await drained(sink);
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

function changed(entry: FolderEntry, cause: unknown): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new Error(`agent folder changed while it was copied: ${entry.source}: ${reason}`, { cause });
}
