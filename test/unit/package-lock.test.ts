// package-lock.json must say what package.json says: `npm ci` refuses a lock whose dependencies
// differ, and `npm install` silently rewrites one whose other root fields (license, engines,
// bin) differ, leaving a fresh clone dirty. No network: the two files are compared field by field.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dir, "../..");
const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
const lock = JSON.parse(readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));
const root = lock.packages[""];

/** npm writes bin paths without a leading "./". */
const binOf = (bin: Record<string, string> | undefined) =>
  bin && Object.fromEntries(Object.entries(bin).map(([name, file]) => [name, file.replace(/^\.\//, "")]));

describe("package-lock.json", () => {
  test("its root entry has every field npm copies from package.json", () => {
    expect(lock.name).toBe(pkg.name);
    expect(lock.version).toBe(pkg.version);
    expect(root.name).toBe(pkg.name);
    expect(root.version).toBe(pkg.version);
    expect(root.license).toBe(pkg.license);
    expect(root.engines).toEqual(pkg.engines);
    expect(binOf(root.bin)).toEqual(binOf(pkg.bin));
    expect(root.dependencies ?? {}).toEqual(pkg.dependencies ?? {});
    expect(root.devDependencies ?? {}).toEqual(pkg.devDependencies ?? {});
  });

  test("every direct dependency is locked", () => {
    const direct = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})];
    expect(direct.filter((name) => !lock.packages[`node_modules/${name}`])).toEqual([]);
  });
});
