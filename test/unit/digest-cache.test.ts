// The digest cache: an unchanged file's content digest is taken from the last build instead of
// reading the file again; any change of the file, and any file changed too recently to tell
// (the last two seconds), is read.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDigestCache } from "../../src/local-build/context/digest-cache.ts";
import { hashEntries } from "../../src/local-build/context/hash.ts";
import { scanBuildContext } from "../../src/local-build/context/scan.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function temp(): string {
  const dir = mkdtempSync(join(tmpdir(), "aicage-digest-cache-"));
  dirs.push(dir);
  return dir;
}

function context(): string {
  const dir = temp();
  writeFileSync(join(dir, "Dockerfile"), "FROM scratch\n");
  writeFileSync(join(dir, "data.bin"), "one");
  return dir;
}
const scan = (dir: string, digestCache?: string) =>
  scanBuildContext({ contextDir: dir, dockerfile: "Dockerfile", digestCache });
/** Later than any file here was changed: nothing counts as too recent. */
const later = { now: Date.now() + 60_000 };

describe("digest cache", () => {
  test("a remembered digest is used for an unchanged file, so the file is not read", async () => {
    const dir = context();
    const file = join(temp(), "digests.json");
    const { entries, contextHash } = await scan(dir);
    const first = openDigestCache(file, later);
    expect(await hashEntries(dir, entries, first)).toBe(contextHash);
    first.save();
    const stored = JSON.parse(readFileSync(file, "utf8"));
    expect(Object.keys(stored.files).sort()).toEqual(["Dockerfile", "data.bin"]);
    // A remembered digest that is wrong shows that it is used instead of the file.
    stored.files["data.bin"][1] = "0".repeat(64);
    writeFileSync(file, JSON.stringify(stored));
    expect(await hashEntries(dir, entries, openDigestCache(file, later))).not.toBe(contextHash);
  });

  test("a changed file is read again: same size, new content", async () => {
    const dir = context();
    const file = join(temp(), "digests.json");
    const cache = openDigestCache(file, later);
    await hashEntries(dir, (await scan(dir)).entries, cache);
    cache.save();
    writeFileSync(join(dir, "data.bin"), "two");
    const { entries, contextHash } = await scan(dir);
    expect(await hashEntries(dir, entries, openDigestCache(file, later))).toBe(contextHash);
  });

  test("files changed in the last two seconds are not remembered; a build with the cache hashes as one without", async () => {
    const dir = context();
    const file = join(temp(), "digests.json");
    const withCache = await scan(dir, file);
    expect(withCache.contextHash).toBe((await scan(dir)).contextHash);
    // Both files were written just now: nothing to remember yet.
    expect(existsSync(file) ? Object.keys(JSON.parse(readFileSync(file, "utf8")).files) : []).toEqual([]);
  });

  test("an unreadable or foreign cache file is ignored", async () => {
    const dir = context();
    const file = join(temp(), "digests.json");
    writeFileSync(file, "not json");
    const { entries, contextHash } = await scan(dir);
    expect(await hashEntries(dir, entries, openDigestCache(file, later))).toBe(contextHash);
    writeFileSync(file, JSON.stringify({ v: 1, files: { "data.bin": "nonsense" } }));
    expect(await hashEntries(dir, entries, openDigestCache(file, later))).toBe(contextHash);
  });
});
