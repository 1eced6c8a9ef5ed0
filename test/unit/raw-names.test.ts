// File names that are not UTF-8, kept as bytes through a string (lib/raw-names.ts), and tar
// headers that carry them unchanged (lib/tar-header.ts), read back by GNU tar.
import { describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { bytesOfName, fsPath, hasRawBytes, nameFromBytes } from "../../src/lib/raw-names.ts";
import { packBuildContext } from "../../src/local-build/context/tar.ts";
import { tempDir } from "../helpers/temp.ts";

const bytes = (...parts: Array<string | number[]>) =>
  new Uint8Array(
    Buffer.concat(parts.map((part) => (typeof part === "string" ? Buffer.from(part) : Buffer.from(part)))),
  );

describe("names as bytes", () => {
  test("UTF-8 decodes as usual; other bytes become U+DC80-U+DCFF and come back unchanged", () => {
    const cases = [
      bytes("plain.txt"),
      bytes("é ✓ 🙂"),
      bytes("caf", [0xe9], ".txt"), // Latin-1 é
      bytes([0xff, 0xfe, 0x80]),
      bytes([0xc0, 0xaf]), // overlong "/"
      bytes([0xed, 0xa0, 0x80]), // an encoded surrogate
      bytes([0xf4, 0x90, 0x80, 0x80]), // beyond U+10FFFF
      bytes("ok", [0xe2, 0x82], "cut"), // a sequence cut short
    ];
    for (const raw of cases) {
      const name = nameFromBytes(raw);
      expect(Buffer.from(bytesOfName(name)).equals(Buffer.from(raw))).toBe(true);
    }
    expect(nameFromBytes(bytes("caf", [0xe9], ".txt"))).toBe("caf\udce9.txt");
    expect(hasRawBytes(nameFromBytes(bytes("é")))).toBe(false);
    expect(fsPath("plain")).toBe("plain");
    expect(fsPath("caf\udce9")).toBeInstanceOf(Buffer);
  });

  test("every byte sequence of up to two bytes survives the round trip", () => {
    for (let a = 0; a < 256; a++) {
      for (let b = 0; b < 256; b += 7) {
        const raw = new Uint8Array([a, b]);
        expect(Buffer.from(bytesOfName(nameFromBytes(raw))).equals(Buffer.from(raw))).toBe(true);
      }
    }
  });

  test("the context tar names such files by their bytes; GNU tar lists them, long paths included", async () => {
    const dir = tempDir("aicage-raw-names-");
    const raw = (...parts: Array<string | number[]>) => Buffer.from(bytes(...parts));
    writeFileSync(join(dir, "Dockerfile"), "FROM scratch\n");
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), raw("caf", [0xe9], ".txt")]), "latin-1\n");
    mkdirSync(Buffer.concat([Buffer.from(`${dir}/`), raw("d", [0xff])]));
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), raw("d", [0xff], "/", [0xfe])]), "x");
    symlinkSync(raw("caf", [0xe9], ".txt"), Buffer.concat([Buffer.from(`${dir}/`), raw("link")]));
    const long = `${"a".repeat(120)}/${"b".repeat(150)}`;
    mkdirSync(join(dir, "a".repeat(120)));
    writeFileSync(join(dir, long), "long\n");

    const context = await packBuildContext({ contextDir: dir, dockerfile: "Dockerfile" });
    const archive = new Uint8Array(await new Response(context.stream).arrayBuffer());
    const listing = Bun.spawnSync(["tar", "-tv", "--quoting-style=escape", "-f", "-"], {
      stdin: archive,
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(listing.stderr.toString()).toBe("");
    const names = listing.stdout
      .toString()
      .trim()
      .split("\n")
      .map((line) => line.replace(/^\S+ \S+ +\d+ \S+ \S+ /, ""));
    expect(names).toEqual([
      "Dockerfile",
      `${"a".repeat(120)}/`,
      long,
      "caf\\351.txt",
      "d\\377/",
      "d\\377/\\376",
      "link -> caf\\351.txt",
    ]);
  });
});
