import { afterAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { extract } from "tar-stream";
import { scanBuildContext } from "../../src/local-build/context/scan.ts";
import { packBuildContext, tarBuildContext } from "../../src/local-build/context/tar.ts";

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A context directory with the given files; a value `{ link }` makes a symlink. */
function makeContext(files: Record<string, string | { link: string }>): string {
  const dir = mkdtempSync(join(tmpdir(), "aicage-context-"));
  tempDirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    const file = join(dir, name);
    mkdirSync(dirname(file), { recursive: true });
    if (typeof content === "string") writeFileSync(file, content);
    else symlinkSync(content.link, file);
  }
  return dir;
}

interface TarEntry {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  linkname?: string;
  content: string;
}

/** Parses the tar back with tar-stream, keyed by entry name, in tar order. */
async function readTar(stream: ReadableStream<Uint8Array>): Promise<Map<string, TarEntry>> {
  const parser = extract();
  const entries = new Map<string, TarEntry>();
  const parsed = (async () => {
    for await (const entry of parser) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of entry) chunks.push(chunk as Uint8Array);
      const { name, type, mode, uid, gid, mtime, linkname } = entry.header;
      entries.set(name, {
        type,
        mode,
        uid,
        gid,
        mtime,
        linkname: linkname ?? undefined,
        content: Buffer.concat(chunks).toString("utf8"),
      });
    }
  })();
  for await (const chunk of stream) parser.write(chunk);
  parser.end(undefined);
  await parsed;
  return entries;
}

describe("packBuildContext", () => {
  const dockerignore = [
    "# build output and logs stay home",
    "",
    "logs",
    "!logs/keep.txt",
    "!logs/**/*.keep",
    "/secret.txt",
    "build/",
    // The docker CLI still sends these two; so must we.
    "Dockerfile",
    ".dockerignore",
  ].join("\n");

  function sampleContext(): string {
    const dir = makeContext({
      Dockerfile: "FROM aicage-test-base:trixie\n",
      ".dockerignore": dockerignore,
      "logs/a.txt": "ignored log\n",
      "logs/keep.txt": "kept log\n",
      "logs/deep/x.keep": "kept by wildcard\n",
      "logs/deep/x.txt": "ignored deep log\n",
      "secret.txt": "top secret\n",
      "nested/secret.txt": "only the top-level secret is ignored\n",
      "build/out.bin": "artifact",
      "src/main.ts": "console.log('hi');\n",
      link: { link: "src/main.ts" },
    });
    chmodSync(join(dir, "src/main.ts"), 0o755);
    return dir;
  }

  test("sends what .dockerignore leaves, with exceptions, symlinks, modes and mtimes", async () => {
    const dir = sampleContext();
    const context = await packBuildContext({ contextDir: dir, dockerfile: "Dockerfile" });
    const tar = await readTar(context.stream);

    // Sorted, parents before children; excluded directories themselves are not sent.
    expect([...tar.keys()]).toEqual([
      ".dockerignore",
      "Dockerfile",
      "link",
      "logs/deep/x.keep",
      "logs/keep.txt",
      "nested/",
      "nested/secret.txt",
      "src/",
      "src/main.ts",
    ]);
    expect(tar.get("Dockerfile")!.content).toBe("FROM aicage-test-base:trixie\n");
    expect(tar.get(".dockerignore")!.content).toBe(dockerignore);
    expect(tar.get("logs/keep.txt")!.content).toBe("kept log\n");
    expect(tar.get("logs/deep/x.keep")!.content).toBe("kept by wildcard\n");
    expect(tar.get("nested/secret.txt")!.content).toBe("only the top-level secret is ignored\n");

    const main = tar.get("src/main.ts")!;
    expect(main).toMatchObject({ type: "file", mode: 0o755, uid: 0, gid: 0, content: "console.log('hi');\n" });
    expect(Math.floor(main.mtime.getTime() / 1000)).toBe(
      Math.floor(lstatSync(join(dir, "src/main.ts")).mtimeMs / 1000),
    );
    expect(tar.get("src/")).toMatchObject({ type: "directory", uid: 0, gid: 0 });
    expect(tar.get("link")).toMatchObject({ type: "symlink", linkname: "src/main.ts", content: "" });

    expect(context.dockerfile).toBe("Dockerfile");
    expect(context.ignoreFile).toBe(".dockerignore");
    expect(context.files).toBe(6);
    expect(context.bytes).toBe(
      [...tar.values()].reduce((sum, e) => sum + (e.type === "file" ? e.content.length : 0), 0),
    );
    expect(context.contextHash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  test(".dockerignore holding '*': the Dockerfile and the ignore file are sent for the engine; the folder hash leaves them out", async () => {
    const dir = makeContext({
      Dockerfile: "FROM x\nCOPY . /ctx/\n",
      ".dockerignore": "*\n!keep.txt\n",
      "keep.txt": "k",
      "other.txt": "o",
    });
    const context = await packBuildContext({ contextDir: dir, dockerfile: "Dockerfile" });
    expect([...(await readTar(context.stream)).keys()]).toEqual([".dockerignore", "Dockerfile", "keep.txt"]);
    expect(context.entries.filter((e) => e.onlyForEngine).map((e) => e.path)).toEqual([".dockerignore", "Dockerfile"]);
    expect(context.folderContextHash).not.toBe(context.contextHash);

    // Not excluded: both ways see the same files, one hash.
    writeFileSync(join(dir, ".dockerignore"), "other.txt\n");
    const plain = await scanBuildContext({ contextDir: dir, dockerfile: "Dockerfile" });
    expect(plain.entries.some((e) => e.onlyForEngine)).toBe(false);
    expect(plain.folderContextHash).toBe(plain.contextHash);
  });

  test("without an ignore file everything is sent", async () => {
    const dir = makeContext({ Dockerfile: "FROM x\n", "a/b.txt": "b" });
    const tar = await readTar((await packBuildContext({ contextDir: dir, dockerfile: "Dockerfile" })).stream);
    expect([...tar.keys()]).toEqual(["Dockerfile", "a/", "a/b.txt"]);
  });

  test("<Dockerfile>.dockerignore next to the Dockerfile wins over .dockerignore", async () => {
    const dir = makeContext({
      "docker/Dockerfile": "FROM x\n",
      // Excludes the Dockerfile's own directory: the Dockerfile and this file are sent anyway.
      "docker/Dockerfile.dockerignore": "docker\ndata\n",
      ".dockerignore": "src\n",
      "data/big.bin": "data",
      "src/main.ts": "main",
    });
    const context = await packBuildContext({ contextDir: dir, dockerfile: "./docker/Dockerfile" });
    const tar = await readTar(context.stream);
    expect(context.dockerfile).toBe("docker/Dockerfile");
    expect(context.ignoreFile).toBe("docker/Dockerfile.dockerignore");
    expect([...tar.keys()]).toEqual([
      ".dockerignore",
      "docker/Dockerfile",
      "docker/Dockerfile.dockerignore",
      "src/",
      "src/main.ts",
    ]);
  });

  test("the hash follows content, mode and link targets, not ignored files or mtimes", async () => {
    const dir = sampleContext();
    const hash = async () => (await scanBuildContext({ contextDir: dir, dockerfile: "Dockerfile" })).contextHash;
    const first = await hash();
    expect(await hash()).toBe(first);

    writeFileSync(join(dir, "logs/a.txt"), "an ignored file changed\n");
    writeFileSync(join(dir, "build/new.bin"), "a new ignored file");
    utimesSync(join(dir, "src/main.ts"), new Date(2001, 1, 1), new Date(2001, 1, 1));
    expect(await hash()).toBe(first);

    writeFileSync(join(dir, "src/main.ts"), "console.log('changed');\n");
    const afterContent = await hash();
    expect(afterContent).not.toBe(first);

    chmodSync(join(dir, "src/main.ts"), 0o644);
    const afterMode = await hash();
    expect(afterMode).not.toBe(afterContent);

    unlinkSync(join(dir, "link"));
    symlinkSync("nested/secret.txt", join(dir, "link"));
    expect(await hash()).not.toBe(afterMode);
  });

  test("a missing context directory names the path", async () => {
    const missing = join(tmpdir(), "aicage-no-such-context-dir");
    await expect(scanBuildContext({ contextDir: missing, dockerfile: "Dockerfile" })).rejects.toThrow(
      `build context not found: ${missing}`,
    );
  });

  test("a missing Dockerfile names its full path", async () => {
    const dir = makeContext({ "README.md": "no Dockerfile here" });
    await expect(packBuildContext({ contextDir: dir, dockerfile: "Dockerfile" })).rejects.toThrow(
      `Dockerfile not found: ${join(dir, "Dockerfile")}`,
    );
  });

  test("a Dockerfile outside the context is refused", async () => {
    const dir = makeContext({ "sub/README.md": "x", Dockerfile: "FROM x\n" });
    await expect(scanBuildContext({ contextDir: join(dir, "sub"), dockerfile: "../Dockerfile" })).rejects.toThrow(
      "Dockerfile is not inside the build context",
    );
  });

  test("a file removed after the scan errors the stream", async () => {
    const dir = makeContext({ Dockerfile: "FROM x\n", "gone.txt": "soon gone" });
    const context = await scanBuildContext({ contextDir: dir, dockerfile: "Dockerfile" });
    unlinkSync(join(dir, "gone.txt"));
    await expect(readTar(tarBuildContext(context))).rejects.toThrow("build context changed while packing: gone.txt");
  });

  test("cancelling the stream stops packing", async () => {
    const dir = makeContext({ Dockerfile: "FROM x\n" });
    truncateSync(join(dir, "Dockerfile"), 0);
    writeFileSync(join(dir, "big.bin"), new Uint8Array(4 * 1024 * 1024));
    const reader = (await packBuildContext({ contextDir: dir, dockerfile: "Dockerfile" })).stream.getReader();
    expect((await reader.read()).done).toBe(false);
    await reader.cancel();
    expect((await reader.read()).done).toBe(true);
  });

  test("a 200 MB file streams with bounded memory", async () => {
    const fileBytes = 200 * 1024 * 1024;
    const smallFiles = Object.fromEntries(
      Array.from({ length: 200 }, (_, i) => [`small/f${String(i).padStart(3, "0")}.txt`, `small file ${i}\n`]),
    );
    const dir = makeContext({ Dockerfile: "FROM x\n", ...smallFiles });
    // Sparse: reads return zeros like a real file, without writing 200 MB to disk first.
    writeFileSync(join(dir, "big.bin"), "");
    truncateSync(join(dir, "big.bin"), fileBytes);

    const before = process.memoryUsage.rss();
    let peak = before;
    const context = await packBuildContext({ contextDir: dir, dockerfile: "Dockerfile" });
    let tarBytes = 0;
    let chunks = 0;
    for await (const chunk of context.stream) {
      tarBytes += chunk.byteLength;
      if (++chunks % 64 === 0) peak = Math.max(peak, process.memoryUsage.rss());
    }
    peak = Math.max(peak, process.memoryUsage.rss());
    const growthMb = (peak - before) / (1024 * 1024);
    console.log(`200 MB context: RSS ${Math.round(before / 2 ** 20)} MB before, peak growth ${growthMb.toFixed(1)} MB`);

    // Every entry is a 512-byte header plus its content padded to 512, then two zero blocks.
    const padded = (size: number) => Math.ceil(size / 512) * 512;
    const expected = context.entries.reduce((sum, e) => sum + 512 + padded(e.size), 0) + 1024;
    expect(tarBytes).toBe(expected);
    expect(context.bytes).toBeGreaterThan(fileBytes);
    expect(growthMb).toBeLessThan(64);
  }, 60_000);
});
