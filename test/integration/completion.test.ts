// `aicage-util completion bash|zsh|fish`: each script is loaded in its real shell, which is
// then asked for completions the way Tab asks: bash calls the completion function with
// COMP_WORDS set, zsh completes on a pty (test/helpers/zsh-complete.zsh), fish answers
// `complete -C`. The expected words come from the command definitions, so a flag added to a
// command and missing from a script fails here.
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describeCommand, flagForm } from "../../src/cli/command-tree.ts";
import { root } from "../../src/commands/root/command.ts";
import { UTIL_IMAGE_KINDS } from "../../src/util-images/catalog.ts";
import { REPO_ROOT, runCli, tempDir } from "../helpers/engine.ts";

const SHELLS = ["bash", "zsh", "fish"] as const;
type Shell = (typeof SHELLS)[number];
const scripts: Record<string, string> = {};
const work = tempDir("aicage-completion-");
/** A folder to complete paths in: two folders and a file. */
const place = join(work, "place");

function need(program: string): string {
  const found = Bun.which(program);
  if (!found)
    throw new Error(`${program} is not installed: scripts/test-engine.sh installs it (apt-get install -y ${program})`);
  return found;
}

async function run(argv: string[], cwd = place): Promise<string> {
  const proc = Bun.spawn(argv, {
    cwd,
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
    env: { ...process.env, HOME: work },
  });
  const timer = setTimeout(() => proc.kill(), 30_000);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}: ${stderr}`);
  return stdout;
}

/** The words a shell offers for `line` (a command line ending where Tab is pressed). */
async function complete(shell: Shell, line: string): Promise<string[]> {
  const words = line.split(" ");
  let out: string;
  if (shell === "bash") {
    const body = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="\${*}"; _aicage_util; printf '%s\\n' "\${COMPREPLY[@]}"`;
    out = await run([need("bash"), "--norc", "-c", body, "bash", scripts.bash!, ...words]);
  } else if (shell === "zsh") {
    const file = join(work, `zsh-${Math.random().toString(36).slice(2)}.out`);
    await run([need("zsh"), "-f", join(REPO_ROOT, "test/helpers/zsh-complete.zsh"), scripts.zsh!, file, line]);
    out = readFileSync(file, "utf8");
  } else {
    out = await run([need("fish"), "--no-config", "-c", `source $argv[1]; complete -C $argv[2]`, scripts.fish!, line]);
  }
  // zsh and fish add a description after the word; zsh may add a word twice (by two tags).
  const found = out
    .split("\n")
    .map((l) => l.split(/\t| -- /)[0]!.trim())
    .filter(Boolean);
  return [...new Set(found)].sort();
}

const sorted = (words: string[]) => [...words].sort();

beforeAll(async () => {
  mkdirSync(join(place, "ctx-a"), { recursive: true });
  mkdirSync(join(place, "ctx-b"));
  writeFileSync(join(place, "Dockerfile.x"), "FROM scratch\n");
  for (const shell of SHELLS) {
    const { exitCode, stdout, stderr } = await runCli(["completion", shell]);
    if (exitCode !== 0) throw new Error(`completion ${shell} exited ${exitCode}: ${stderr}`);
    scripts[shell] = join(work, `completion.${shell}`);
    writeFileSync(scripts[shell]!, stdout);
  }
});

describe("completion", () => {
  test("a bad or missing shell is a usage error naming the shells", async () => {
    for (const args of [["completion"], ["completion", "tcsh"]]) {
      const { exitCode, stderr, stdout } = await runCli(args);
      expect(exitCode).toBe(2);
      expect(stdout).toBe("");
      expect(stderr).toContain("bash, zsh");
    }
  });

  test("each script passes its shell's syntax check", async () => {
    await run([need("bash"), "-n", scripts.bash!]);
    await run([need("zsh"), "-n", scripts.zsh!]);
    await run([need("fish"), "--no-execute", scripts.fish!]);
  });

  for (const shell of SHELLS) {
    describe(shell, () => {
      test("every command and every flag of every command, from the definitions", async () => {
        const tree = await describeCommand(root, ["aicage-util"]);
        expect(await complete(shell, "aicage-util ")).toEqual(sorted(tree.subcommands.map((c) => c.name)));
        const visit = async (node: typeof tree): Promise<void> => {
          const prefix = ["aicage-util", ...node.path.slice(1)].join(" ");
          if (node.subcommands.length) {
            if (node.path.length > 1)
              expect(await complete(shell, `${prefix} `)).toEqual(sorted(node.subcommands.map((c) => c.name)));
            for (const child of node.subcommands) await visit(child);
          }
          const builtins = node.path.length === 1 ? ["--help", "--version"] : ["--help"];
          const flags = (await complete(shell, `${prefix} --`)).filter(
            (w) => !builtins.includes(w) || node.flags.some((f) => `--${f.name}` === w),
          );
          expect({ command: prefix, flags }).toEqual({
            command: prefix,
            flags: sorted(node.flags.map((f) => `--${flagForm(f)}`)),
          });
        };
        await visit(tree);
      }, 120_000);

      test("enum values, util image kinds, shells and --order", async () => {
        expect(await complete(shell, "aicage-util build --via ")).toEqual(["api", "builder"]);
        expect(await complete(shell, "aicage-util build -t x:1 --via a")).toEqual(["api"]);
        expect(await complete(shell, "aicage-util version-check --only ")).toEqual(["host", "image"]);
        expect(await complete(shell, "aicage-util version-check --order ")).toEqual(["host,image", "image,host"]);
        expect(await complete(shell, "aicage-util images pull ")).toEqual(sorted([...UTIL_IMAGE_KINDS]));
        expect(await complete(shell, "aicage-util images rm --all ")).toEqual(sorted([...UTIL_IMAGE_KINDS]));
        expect(await complete(shell, "aicage-util completion ")).toEqual(["bash", "fish", "zsh"]);
        expect(await complete(shell, "aicage-util version-check --no-c")).toEqual(["--no-cache-fallback"]);
      }, 60_000);

      test("folders for a build context, files for -f, nothing for a tag", async () => {
        const strip = (words: string[]) => words.map((w) => w.replace(/\/$/, ""));
        expect(strip(await complete(shell, "aicage-util build --via api "))).toEqual(["ctx-a", "ctx-b"]);
        expect(strip(await complete(shell, "aicage-util build -f "))).toEqual(["Dockerfile.x", "ctx-a", "ctx-b"]);
        expect(strip(await complete(shell, "aicage-util build -f D"))).toEqual(["Dockerfile.x"]);
        expect(await complete(shell, "aicage-util build -t ")).toEqual([]);
      }, 60_000);
    });
  }
});
