// Keeps the layers of ARCHITECTURE.md: reads every import in src/ and fails on one the rules
// there do not allow. The rules are parsed from the page itself, so they cannot drift apart.
// It also fails on a circle of imports between files (type-only imports count too): a file
// in a circle cannot be understood, tested or moved without the others.
import { describe, expect, test } from "bun:test";
import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dir, "../..");
const SRC = path.join(ROOT, "src");
const CLI_LIBRARIES = new Set(["citty", "consola"]);
const CLI_LAYERS = new Set(["cli", "commands", "entry"]);
/** Files outside src/ a layer may read, besides its own code. */
const OUTSIDE_SRC: Record<string, RegExp> = { core: /^package\.json$/, "util-images": /^images\/[^/]+\/Dockerfile$/ };

function rulesFromArchitecturePage(): Map<string, Set<string>> {
  const page = readFileSync(path.join(ROOT, "ARCHITECTURE.md"), "utf8");
  const block = /```text\nlayer +may import\n([\s\S]*?)```/.exec(page);
  if (!block) throw new Error("ARCHITECTURE.md has no 'layer may import' block");
  const rules = new Map<string, Set<string>>();
  for (const line of block[1]!.trim().split("\n")) {
    const [layer, ...allowed] = line.trim().split(/\s+/);
    rules.set(layer!, new Set(allowed.filter((name) => name !== "-")));
  }
  return rules;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? sourceFiles(file) : /\.tsx?$/.test(name) ? [file] : [];
  });
}

/** The npm package a specifier names: "consola/utils" is consola's, "@scope/name/sub" is @scope/name's. */
function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return (specifier.startsWith("@") ? parts.slice(0, 2) : parts.slice(0, 1)).join("/");
}

function layerOf(file: string): string {
  const relative = path.relative(SRC, file);
  return relative.includes(path.sep) ? relative.split(path.sep)[0]! : "entry";
}

/** Every module a file names in an import, an export-from or a dynamic import(). */
function importsOf(text: string): string[] {
  const found: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\b[^'"]*?\bfrom\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of text.matchAll(pattern)) found.push(match[1]!);
  return found;
}

/** The source files each file of `files` imports by a relative path (other files, such as Dockerfiles, left out). */
function importGraph(files: string[]): Map<string, string[]> {
  const known = new Set(files);
  return new Map(
    files.map((file) => {
      const targets = importsOf(readFileSync(file, "utf8"))
        .filter((specifier) => specifier.startsWith("."))
        .map((specifier) => path.resolve(path.dirname(file), specifier))
        .filter((target) => known.has(target));
      return [file, [...new Set(targets)]];
    }),
  );
}

/**
 * Every circle the graph's edges close, once each, as its files in import order with the first
 * repeated at the end (a → b → a). A depth-first walk: an edge back to a file still on the
 * walk's path closes the circle from that file on.
 */
function importCycles(graph: Map<string, string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  const done = new Set<string>();
  const onPath = new Map<string, number>();
  const trail: string[] = [];
  const visit = (file: string) => {
    onPath.set(file, trail.length);
    trail.push(file);
    for (const target of graph.get(file) ?? []) {
      const at = onPath.get(target);
      if (at !== undefined) {
        const cycle = trail.slice(at);
        // The same circle found from another file is one circle: keyed from its smallest name.
        const first = cycle.indexOf([...cycle].sort()[0]!);
        const rotated = [...cycle.slice(first), ...cycle.slice(0, first)];
        cycles.set(rotated.join("\0"), [...rotated, rotated[0]!]);
      } else if (!done.has(target)) {
        visit(target);
      }
    }
    trail.pop();
    onPath.delete(file);
    done.add(file);
  };
  for (const file of [...graph.keys()].sort()) if (!done.has(file)) visit(file);
  return [...cycles.values()];
}

const rules = rulesFromArchitecturePage();
const files = sourceFiles(SRC);

describe("layers (ARCHITECTURE.md)", () => {
  test("every folder of src/ is a layer the page names", () => {
    const folders = readdirSync(SRC).filter((name) => statSync(path.join(SRC, name)).isDirectory());
    expect(folders.filter((folder) => !rules.has(folder))).toEqual([]);
  });

  test("every layer the rules name is a folder of src/ (or the entry): no row outlives its folder", () => {
    const folders = new Set(readdirSync(SRC).filter((name) => statSync(path.join(SRC, name)).isDirectory()));
    const named = [...rules.keys(), ...[...rules.values()].flatMap((allowed) => [...allowed])];
    expect([...new Set(named)].filter((layer) => layer !== "entry" && !folders.has(layer))).toEqual([]);
  });

  test("imports point only where the rules allow", () => {
    const broken: string[] = [];
    for (const file of files) {
      const layer = layerOf(file);
      const allowed = rules.get(layer) ?? new Set<string>();
      for (const specifier of importsOf(readFileSync(file, "utf8"))) {
        const where = `${path.relative(ROOT, file)} imports ${specifier}`;
        if (!specifier.startsWith(".")) {
          if (CLI_LIBRARIES.has(packageOf(specifier)) && !CLI_LAYERS.has(layer))
            broken.push(`${where}: CLI libraries belong to the CLI layers`);
          continue;
        }
        const target = path.resolve(path.dirname(file), specifier);
        if (!target.startsWith(`${SRC}${path.sep}`)) {
          if (!OUTSIDE_SRC[layer]?.test(path.relative(ROOT, target))) broken.push(`${where}: outside src/`);
          continue;
        }
        const targetLayer = layerOf(target);
        if (targetLayer !== layer && !allowed.has(targetLayer))
          broken.push(`${where}: ${layer} may not import ${targetLayer}`);
      }
    }
    expect(broken).toEqual([]);
  });

  test("a command's folder imports no other command's folder (root/ aside: it loads them all)", () => {
    const COMMANDS = path.join(SRC, "commands");
    const commandOf = (file: string) => path.relative(COMMANDS, file).split(path.sep)[0]!;
    const broken: string[] = [];
    for (const file of files.filter((file) => file.startsWith(`${COMMANDS}${path.sep}`))) {
      const command = commandOf(file);
      if (command === "root") continue;
      for (const specifier of importsOf(readFileSync(file, "utf8"))) {
        const target = path.resolve(path.dirname(file), specifier);
        if (specifier.startsWith(".") && target.startsWith(`${COMMANDS}${path.sep}`) && commandOf(target) !== command) {
          broken.push(`${path.relative(ROOT, file)} imports ${specifier}`);
        }
      }
    }
    expect(broken).toEqual([]);
    // Every command is a folder, none a loose file beside them.
    expect(readdirSync(COMMANDS).filter((name) => !statSync(path.join(COMMANDS, name)).isDirectory())).toEqual([]);
  });

  test("the check sees imports of every kind (it cannot pass by reading nothing)", () => {
    const seen = importsOf(
      [
        'import { a } from "./a.ts";',
        'import type { B } from "../b.ts";',
        'export { c } from "./c.ts";',
        'const d = () => import("./d.ts");',
        'import "./e.ts";',
      ].join("\n"),
    );
    expect(seen.sort()).toEqual(["../b.ts", "./a.ts", "./c.ts", "./d.ts", "./e.ts"]);
    // A sub-path of a CLI library is that library.
    expect(["citty", "consola/utils", "consola/core", "@scope/pkg/sub", "ofetch"].map(packageOf)).toEqual([
      "citty",
      "consola",
      "consola",
      "@scope/pkg",
      "ofetch",
    ]);
    expect(files.length).toBeGreaterThan(50);
    const total = files.reduce((sum, file) => sum + importsOf(readFileSync(file, "utf8")).length, 0);
    expect(total).toBeGreaterThan(200);
  });
});

describe("no circles of imports between files", () => {
  test("no file of src/ reaches itself through its imports", () => {
    const named = importCycles(importGraph(files)).map((cycle) =>
      cycle.map((file) => path.relative(SRC, file)).join(" → "),
    );
    expect(named).toEqual([]);
  });

  test("the check finds a circle, and names it (it cannot pass by finding nothing)", () => {
    const graph = new Map([
      ["a", ["b"]],
      ["b", ["c", "d"]],
      ["c", ["a"]],
      ["d", ["d2"]],
      ["d2", ["e"]],
      ["e", []],
      ["f", ["g"]],
      ["g", ["f"]],
      ["h", ["h"]],
    ]);
    expect(importCycles(graph)).toEqual([
      ["a", "b", "c", "a"],
      ["f", "g", "f"],
      ["h", "h"],
    ]);
    // A circle is found whichever of its files the walk starts from.
    expect(
      importCycles(
        new Map([
          ["z", ["y"]],
          ["y", ["x"]],
          ["x", ["z"]],
        ]),
      ),
    ).toEqual([["x", "z", "y", "x"]]);
    // Type-only imports are edges too (errors.ts needs nothing but a type of docker-endpoint.ts).
    const graphOfSrc = importGraph(files);
    expect(graphOfSrc.get(path.join(SRC, "docker/errors.ts"))).toContain(path.join(SRC, "docker/docker-endpoint.ts"));
    expect([...graphOfSrc.values()].reduce((sum, targets) => sum + targets.length, 0)).toBeGreaterThan(150);
  });
});
