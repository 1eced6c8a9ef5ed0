// Keeps the documentation in step: every exit code in src/ is in the table of
// docs/json-and-exit-codes.md, and every link between the project's Markdown files reaches a
// file, and a heading when it names one.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { ExitCode } from "../../src/cli/exit-codes.ts";

const ROOT = path.resolve(import.meta.dir, "../..");
const PAGES = [
  "README.md",
  "CONTRIBUTING.md",
  "ARCHITECTURE.md",
  ...readdirSync(path.join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
];

/** Markdown outside fenced code blocks. */
function prose(page: string): string {
  return readFileSync(path.join(ROOT, page), "utf8").replace(/^```[\s\S]*?^```/gm, "");
}

/** GitHub's anchors of a page's headings. */
function anchors(page: string): Set<string> {
  const found = new Set<string>();
  for (const [, heading] of prose(page).matchAll(/^#{1,6} +(.+)$/gm)) {
    found.add(
      heading!
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, "")
        .replace(/ /g, "-"),
    );
  }
  return found;
}

describe("documentation", () => {
  test("every exit code in src/cli/exit-codes.ts is in docs/json-and-exit-codes.md's table", () => {
    const page = prose("docs/json-and-exit-codes.md");
    const rows = new Set([...page.matchAll(/^\| (\d+) \|/gm)].map((match) => Number(match[1])));
    for (const code of Object.values(ExitCode)) expect(rows).toContain(code);
  });

  test("every link between the project's pages reaches its file and heading", () => {
    const broken: string[] = [];
    for (const page of PAGES) {
      for (const [, target] of prose(page).matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const [file, anchor] = target!.split("#") as [string, string | undefined];
        const resolved = file ? path.normalize(path.join(path.dirname(page), file)) : page;
        if (!existsSync(path.join(ROOT, resolved))) broken.push(`${page}: ${target} (no such file)`);
        else if (anchor && resolved.endsWith(".md") && !anchors(resolved).has(anchor)) {
          broken.push(`${page}: ${target} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  test("the README stays short", () => {
    const lines = readFileSync(path.join(ROOT, "README.md"), "utf8").split("\n").length - 1;
    expect(lines).toBeLessThanOrEqual(250);
  });
});
