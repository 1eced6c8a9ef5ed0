// Runs the citty command tree with our own contract: --help and --version, unknown
// flags rejected, every error reported in one line with the documented exit code.
import { type CommandDef, runCommand } from "citty";
import { isShuttingDown, workBeforeExit } from "../lib/shutdown.ts";
import { rejectBadEnumValues, rejectUnknownFlags } from "./args.ts";
import { UsageError } from "../core/errors.ts";
import { ExitCode } from "./exit-codes.ts";
import { reportError } from "./report-error.ts";
import { quoted } from "../lib/safe-text.ts";
import { showHelp } from "./help.ts";
import { answered, logger, printJson, printLastJson, writeStdout } from "./output.ts";
import { toolRevision, toolVersion } from "../core/tool-info.ts";

type AnyCommand = CommandDef<any>;

async function resolve<T>(value: T | (() => T | Promise<T>) | Promise<T>): Promise<T> {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

/** Follows subcommand names in rawArgs; answers the chain of commands and the leftover args. */
async function resolveChain(root: AnyCommand, rawArgs: string[]) {
  const chain: AnyCommand[] = [root];
  const names: string[] = [];
  let rest = rawArgs;
  for (;;) {
    const current = chain[chain.length - 1]!;
    const subCommands = current.subCommands ? await resolve(current.subCommands) : undefined;
    const index = rest.findIndex((arg) => !arg.startsWith("-"));
    if (!subCommands || index < 0 || !(rest[index]! in subCommands)) break;
    const name = rest[index]!;
    chain.push(await resolve(subCommands[name] as AnyCommand));
    names.push(name);
    rest = rest.slice(index + 1);
  }
  return { chain, names, rest };
}

/** "aicage-util images ls|pull|build|rm" */
async function commandList(command: AnyCommand, name: string): Promise<string> {
  const subCommands = command.subCommands ? await resolve(command.subCommands) : {};
  return `${name} ${Object.keys(subCommands ?? {}).join("|")}`;
}

/**
 * A --json run that a signal ends answers with the error object, kind "interrupted", after
 * the containers it started are gone (the entry registers this with lib/shutdown.ts from the
 * start), and its message as the last line on stderr, as for any error object: unless the
 * command had printed its own answer, which stays the only one.
 */
export function answerInterrupted(exitCode: number): Promise<void> {
  const message = "interrupted";
  if (!answered()) logger.error(message);
  return printLastJson({ error: { kind: "interrupted", exitCode, message } });
}

/** Whether --progress json makes stdout an NDJSON stream (its last line the answer or the error). */
export function streamsJson(rawArgs: string[]): boolean {
  return rawArgs.some((arg, i) => arg === "--progress=json" || (arg === "--progress" && rawArgs[i + 1] === "json"));
}

/** `--version` or `-v`, alone or with `--json` (then as the object of schemas/version.schema.json). */
function isVersionRequest(rawArgs: string[]): boolean {
  const rest = rawArgs.filter((arg) => arg !== "--json");
  return rest.length === 1 && rawArgs.length - rest.length <= 1 && (rest[0] === "--version" || rest[0] === "-v");
}

export async function runCli(root: AnyCommand, rawArgs: string[], versionLine: string): Promise<never> {
  const json = rawArgs.includes("--json") || streamsJson(rawArgs);
  let code: number = ExitCode.ok;
  try {
    const { chain, names, rest } = await resolveChain(root, rawArgs);
    const command = chain[chain.length - 1]!;
    if (rawArgs.includes("--help") || rawArgs.includes("-h")) {
      await showHelp(chain, names);
    } else if (isVersionRequest(rawArgs)) {
      if (json) printJson({ name: "aicage-util", version: toolVersion, revision: toolRevision });
      else writeStdout(`${versionLine}\n`);
    } else if (chain.length === 1 || (!command.run && command.subCommands)) {
      // A command that only groups others (or none at all): an unknown or a missing one.
      const name = ["aicage-util", ...names].join(" ");
      const unknown = rest.find((arg) => !arg.startsWith("-"));
      if (unknown !== undefined)
        throw new UsageError(`unknown command ${quoted(unknown, 60)} for '${name}'; see '${name} --help'`);
      // --json always means JSON on stdout: the usage text would not be.
      if (json) throw new UsageError(`missing command: ${await commandList(command, name)}; see '${name} --help'`);
      await showHelp(chain, names);
      code = ExitCode.usage;
    } else {
      const args = (await resolve(command.args)) ?? {};
      rejectUnknownFlags(rest, args, ["aicage-util", ...names].join(" "));
      rejectBadEnumValues(rest, args);
      await runCommand(command, { rawArgs: rest });
    }
  } catch (error) {
    if (!isShuttingDown()) code = reportError(error, { json });
  }
  // After a signal the shutdown handler removes what we created, then exits itself.
  if (isShuttingDown()) await new Promise(() => {});
  // What the answer did not wait for (a finished container the engine is removing) ends first.
  await workBeforeExit();
  // Flush stdout before exiting: a piped --json result must arrive whole.
  await new Promise<void>((done) => process.stdout.write("", () => done()));
  process.exit(code);
}
