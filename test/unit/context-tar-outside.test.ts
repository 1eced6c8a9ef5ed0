// A Dockerfile from outside the build context (`-f ../recipes/Dockerfile`), sent inside the tar.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { extract } from "tar-stream";
import { scanBuildContext } from "../../src/local-build/context/scan.ts";
import { packBuildContext } from "../../src/local-build/context/tar.ts";

const dir = mkdtempSync(join(tmpdir(), "aicage-outside-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, "ctx"));
mkdirSync(join(dir, "recipes"));
writeFileSync(join(dir, "ctx", "agent.tar.gz"), "tarball");
writeFileSync(join(dir, "recipes", "Dockerfile"), "FROM scratch\nADD agent.tar.gz /opt/\n");

async function tarEntries(stream: ReadableStream<Uint8Array>): Promise<Record<string, string>> {
  const parser = extract();
  const entries: Record<string, string> = {};
  const parsed = (async () => {
    for await (const entry of parser) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of entry) chunks.push(chunk as Uint8Array);
      entries[entry.header.name] = Buffer.concat(chunks).toString("utf8");
    }
  })();
  for await (const chunk of stream) parser.write(chunk);
  parser.end(undefined);
  await parsed;
  return entries;
}

describe("Dockerfile outside the context", () => {
  const options = {
    contextDir: join(dir, "ctx"),
    dockerfile: join(dir, "recipes", "Dockerfile"),
    allowDockerfileOutside: true,
  };

  test("is sent in the tar under a name made from its content, which the build is told", async () => {
    const context = await packBuildContext(options);
    expect(context.dockerfile).toMatch(/^\.dockerfile\.[0-9a-f]{12}$/);
    const entries = await tarEntries(context.stream);
    expect(entries).toEqual({
      "agent.tar.gz": "tarball",
      [context.dockerfile]: "FROM scratch\nADD agent.tar.gz /opt/\n",
    });
  });

  test("counts in the context hash, the same from scan to scan; not in the folder hash (buildx never sees it)", async () => {
    const first = await scanBuildContext(options);
    expect(first.entries.find((e) => e.path === first.dockerfile)?.onlyForEngine).toBe(true);
    expect(first.folderContextHash).not.toBe(first.contextHash);
    expect((await scanBuildContext(options)).contextHash).toBe(first.contextHash);
    writeFileSync(join(dir, "recipes", "Dockerfile"), "FROM scratch\nADD agent.tar.gz /srv/\n");
    expect((await scanBuildContext(options)).contextHash).not.toBe(first.contextHash);
  });

  test("without the option it is still refused, and a missing one is named", async () => {
    await expect(scanBuildContext({ ...options, allowDockerfileOutside: false })).rejects.toThrow(
      "Dockerfile is not inside the build context",
    );
    await expect(scanBuildContext({ ...options, dockerfile: join(dir, "recipes", "nope") })).rejects.toThrow(
      `Dockerfile not found: ${join(dir, "recipes", "nope")}`,
    );
  });

  test("a Dockerfile inside the context is unchanged by the option", async () => {
    writeFileSync(join(dir, "ctx", "Dockerfile"), "FROM scratch\n");
    const context = await scanBuildContext({ ...options, dockerfile: join(dir, "ctx", "Dockerfile") });
    expect(context.dockerfile).toBe("Dockerfile");
    rmSync(join(dir, "ctx", "Dockerfile"));
  });
});
