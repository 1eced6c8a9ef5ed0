// The user's Dockerfile as the builder gets it when the host's registry set-up is forwarded: the
// same text, byte for byte, but that every RUN of every stage gets mount flags (the set-up's
// files, which no layer keeps) and every stage declares build arguments that point npm, pip,
// curl, git and node at them (arguments reach a RUN's environment, never the image's config).
// Nothing on disk changes. What is not a RUN or a FROM is left as it is: parser directives
// (`# syntax=`, `# check=`, `# escape=`) stay first, comments, continuations and heredoc bodies
// stay where they are. ONBUILD RUN is left alone: it runs in another build.

export interface DockerfileAdditions {
  /** flags put after the RUN keyword of every RUN, e.g. `--mount=type=bind,source=…,target=…` */
  runFlags: string[];
  /** build arguments declared after every FROM, unless the Dockerfile names them itself */
  stageArgs: Record<string, string>;
}

export interface RewrittenDockerfile {
  text: string;
  /** how many RUN instructions got the flags */
  runs: number;
  /** how many stages got the arguments */
  stages: number;
}

/** The parser directives BuildKit reads at the top: `# name=value` lines before anything else. */
const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$/;
/** A heredoc's start in an instruction: `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'`. */
const HEREDOC = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;

/** One instruction: its physical lines, and the heredoc bodies that follow it. */
interface Instruction {
  keyword: string;
  /** the logical line, continuations joined (for reading, not for writing back) */
  logical: string;
  /** index of its first physical line, and one past its last (heredoc bodies included) */
  start: number;
  end: number;
}

export function rewriteDockerfile(text: string, additions: DockerfileAdditions): RewrittenDockerfile {
  const newline = text.includes("\r\n") ? "\r\n" : "\n";
  const lines = text.split(/\r?\n/);
  const instructions = readInstructions(lines);
  const declared = declaredNames(instructions);
  const stageArgs = Object.entries(additions.stageArgs).filter(([name]) => !declared.has(name));
  const out: string[] = [];
  let runs = 0;
  let stages = 0;
  let next = 0;
  for (const instruction of instructions) {
    out.push(...lines.slice(next, instruction.start));
    const own = lines.slice(instruction.start, instruction.end);
    if (instruction.keyword === "RUN" && additions.runFlags.length > 0) {
      own[0] = own[0]!.replace(/^(\s*run)(?=\s|$)/i, `$1 ${additions.runFlags.join(" ")}`);
      runs++;
    }
    out.push(...own);
    if (instruction.keyword === "FROM" && stageArgs.length > 0) {
      // One instruction: buildah counts each ARG as a step of its own.
      out.push(`ARG ${stageArgs.map(([name, value]) => `${name}=${value}`).join(" ")}`);
      stages++;
    }
    next = instruction.end;
  }
  out.push(...lines.slice(next));
  return { text: out.join(newline), runs, stages };
}

/**
 * The images the stages start from, build arguments put in (`FROM ${BASE_IMAGE}`): the values
 * given, else the defaults of the ARGs before the first FROM. Stage names are left out.
 */
export function fromImages(text: string, buildArgs: Record<string, string>): string[] {
  const instructions = readInstructions(text.split(/\r?\n/));
  const values: Record<string, string> = {};
  const stages = new Set<string>();
  const images: string[] = [];
  let seenFrom = false;
  for (const { keyword, logical } of instructions) {
    const words = logical.trim().split(/\s+/).slice(1);
    if (keyword === "ARG" && !seenFrom) {
      for (const word of words) {
        const [name, ...rest] = word.split("=");
        values[name!] = buildArgs[name!] ?? (rest.length ? rest.join("=").replace(/^["']|["']$/g, "") : "");
      }
    }
    if (keyword !== "FROM") continue;
    seenFrom = true;
    const args = words.filter((word) => !word.startsWith("--"));
    const image = (args[0] ?? "").replace(
      /\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g,
      (_, name: string) => buildArgs[name] ?? values[name] ?? "",
    );
    if (!stages.has(image.toLowerCase())) images.push(image);
    if (args[1]?.toLowerCase() === "as" && args[2]) stages.add(args[2].toLowerCase());
  }
  return images;
}

/** The instructions of a Dockerfile, with the physical lines each spans. */
function readInstructions(lines: string[]): Instruction[] {
  const continuation = escapeCharacter(lines);
  const instructions: Instruction[] = [];
  let i = skipDirectives(lines);
  while (i < lines.length) {
    const line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) {
      i++;
      continue;
    }
    const start = i;
    const parts: string[] = [];
    // A line ending in the escape character goes on; comment lines inside are not part of it.
    for (;;) {
      const current = lines[i]!;
      i++;
      if (/^\s*#/.test(current) && parts.length > 0) continue;
      const trimmed = current.replace(/\s+$/, "");
      if (trimmed.endsWith(continuation) && i < lines.length) {
        parts.push(trimmed.slice(0, -1));
        continue;
      }
      parts.push(current);
      break;
    }
    const logical = parts.join(" ");
    const keyword = (/^\s*([a-zA-Z]+)/.exec(logical)?.[1] ?? "").toUpperCase();
    i = afterHeredocs(lines, i, keyword, logical);
    instructions.push({ keyword, logical, start, end: i });
  }
  return instructions;
}

/** The escape character a `# escape=` directive sets, else the backslash. */
function escapeCharacter(lines: string[]): string {
  for (let i = 0; i < skipDirectives(lines); i++) {
    const match = DIRECTIVE.exec(lines[i]!);
    if (match && match[1]!.toLowerCase() === "escape" && (match[2] === "`" || match[2] === "\\")) return match[2];
  }
  return "\\";
}

/** The index of the first line after the parser directives. */
function skipDirectives(lines: string[]): number {
  let i = 0;
  while (i < lines.length && DIRECTIVE.test(lines[i]!)) i++;
  return i;
}

/** Past the bodies of the heredocs a RUN, COPY or ADD opens (`<<EOF` … `EOF`). */
function afterHeredocs(lines: string[], from: number, keyword: string, logical: string): number {
  if (!["RUN", "COPY", "ADD"].includes(keyword)) return from;
  let i = from;
  for (const match of logical.matchAll(HEREDOC)) {
    const stripTabs = match[1] === "-";
    const word = match[3]!;
    while (i < lines.length) {
      const body = lines[i]!;
      i++;
      if ((stripTabs ? body.replace(/^\t+/, "") : body) === word) break;
    }
  }
  return i;
}

/** Names the Dockerfile declares itself (ARG, ENV): those it sets are its own. */
function declaredNames(instructions: Instruction[]): Set<string> {
  const names = new Set<string>();
  for (const { keyword, logical } of instructions) {
    if (keyword !== "ARG" && keyword !== "ENV") continue;
    const rest = logical.replace(/^\s*[a-zA-Z]+\s+/, "");
    for (const match of rest.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)(?==|\s|$)/g)) names.add(match[1]!);
  }
  return names;
}
