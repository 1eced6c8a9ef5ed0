// Turns any error into one line on stderr (and one JSON object on stdout with --json)
// and the documented exit code. Stack traces only with AICAGE_UTIL_DEBUG=1.
import { UsageError } from "../core/errors.ts";
import { DockerError, EndpointError, EnginePermissionError, EngineUnreachableError } from "../docker/errors.ts";
import { BuildFailedError } from "../local-build/failure-report.ts";
import { CommandFailedError, ExitCode } from "./exit-codes.ts";
import { logger, printJson } from "./output.ts";
import { escapeControls, withoutEscapes } from "../lib/safe-text.ts";
import { oneLine } from "../lib/text.ts";

function exitCodeFor(error: unknown): number {
  if (error instanceof CommandFailedError) return error.exitCode;
  if (error instanceof UsageError || error instanceof EndpointError) return ExitCode.usage;
  if ((error as Error)?.name === "CLIError") return ExitCode.usage; // citty: missing/invalid argument
  if (error instanceof EngineUnreachableError || error instanceof EnginePermissionError) return ExitCode.engine;
  return ExitCode.failed;
}

function errorKind(error: unknown): string {
  if (error instanceof EngineUnreachableError) return "engine-unreachable";
  if (error instanceof EnginePermissionError) return "engine-permission";
  if (exitCodeFor(error) === ExitCode.usage) return "usage";
  if (error instanceof DockerError) return "docker";
  return "failed";
}

/** What a failed build adds to the --json error object (schemas/error.schema.json), every text made safe. */
export interface BuildFailureFields {
  /** the step that failed as the builder names it ("[3/3] RUN make"), whole, on one line; null when none was named */
  step: string | null;
  logFile: string;
  /** the log's last lines, as a terminal shows them before the error line */
  lastLines: string[];
}

/** What the CLI ends with for an error: its exit code and its one line (and, for --json, what more it knows). */
export interface Failure {
  exitCode: number;
  line: string;
  /** fields of the --json error object beyond kind, exitCode and message */
  fields?: BuildFailureFields;
}

/** The one mapping of errors to exit codes and lines; `reportError` prints what it answers. */
export function failureFor(error: unknown): Failure {
  const failure: Failure = { exitCode: exitCodeFor(error), line: messageFor(error) };
  if (error instanceof BuildFailedError) {
    failure.fields = {
      step: error.step === undefined ? null : withoutEscapes(oneLine(error.step)),
      logFile: escapeControls(error.logFile),
      lastLines: error.tail.map(withoutEscapes),
    };
  }
  return failure;
}

/** Reports the error and answers the exit code to end with. */
export function reportError(error: unknown, options: { json: boolean }): number {
  const { exitCode: code, line: message, fields } = failureFor(error);
  if (message) logger.error(message);
  // Line by line, each made safe: the stack may quote an engine's or a script's words.
  if (process.env.AICAGE_UTIL_DEBUG && error instanceof Error && error.stack) {
    for (const line of error.stack.split("\n")) process.stderr.write(`${withoutEscapes(line)}\n`);
  }
  // A CommandFailedError comes after the command printed its own result (JSON included).
  if (options.json && !(error instanceof CommandFailedError)) {
    printJson({ error: { kind: errorKind(error), exitCode: code, message, ...fields } });
  }
  return code;
}

/** What a user can do when no engine answers, in the CLI's terms. */
const UNREACHABLE_FIX = "Start Docker, or point at a running engine with --host or DOCKER_HOST.";

/**
 * The error's own line, with the CLI's way out where the engine could not be reached (hung, or
 * not an engine at all, included). Control characters from engine messages, file names or
 * values are shown as escapes: the line stays one line and cannot act on the terminal.
 */
function messageFor(error: unknown): string {
  const message = withoutEscapes(oneLine(error instanceof Error ? error.message : String(error)));
  return error instanceof EngineUnreachableError && !error.fix ? `${message} ${UNREACHABLE_FIX}` : message;
}
