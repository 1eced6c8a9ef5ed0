// Short functions at the centre: no function of src/ spans more than 80 lines, first line to
// last, comments included. Biome finds the functions (every declaration, method and arrow);
// its own count leaves lines out, so the span is measured here from where each one starts and ends.
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");
const MAX_SPAN = 80;
/** Biome reports a function whose body has more lines than this: low, so no long span escapes. */
const REPORT_FROM = 30;

test(`no function in src/ spans more than ${MAX_SPAN} lines`, () => {
  const config = mkdtempSync(join(tmpdir(), "aicage-function-length-"));
  try {
    const rule = { level: "error", options: { maxLines: REPORT_FROM } };
    writeFileSync(
      join(config, "biome.json"),
      JSON.stringify({
        files: { includes: ["**/*.ts"] },
        formatter: { enabled: false },
        assist: { enabled: false },
        linter: { rules: { preset: "none", complexity: { noExcessiveLinesPerFunction: rule } } },
      }),
    );
    const run = Bun.spawnSync(
      [
        join(ROOT, "node_modules/.bin/biome"),
        "lint",
        `--config-path=${config}`,
        "--reporter=json",
        "--max-diagnostics=none",
        "src",
      ],
      { cwd: ROOT },
    );
    const report = JSON.parse(run.stdout.toString()) as {
      diagnostics: Array<{
        category: string;
        location: { path: string; start: { line: number }; end: { line: number } };
      }>;
    };
    const found = report.diagnostics.filter((d) => d.category === "lint/complexity/noExcessiveLinesPerFunction");
    // The measurement sees functions at all: the CLI's command runs are longer than REPORT_FROM.
    expect(found.length).toBeGreaterThan(5);
    const long = found
      .map((d) => ({
        at: `${d.location.path}:${d.location.start.line}`,
        span: d.location.end.line - d.location.start.line + 1,
      }))
      .filter((f) => f.span > MAX_SPAN)
      .map((f) => `${f.at} spans ${f.span} lines`);
    expect(long).toEqual([]);
  } finally {
    rmSync(config, { recursive: true, force: true });
  }
}, 60_000);
