// Turns any error into one line on stderr (and one JSON object on stdout with --json)
// and the documented exit code. Stack traces only with AICAGE_UTIL_DEBUG=1.
import { UsageError } from "../core/errors.ts";
import { DockerError, EndpointError, EnginePermissionError, EngineUnreachableError } from "../docker/errors.ts";
import { CommandFailed, ExitCode } from "./exit-codes.ts";
import { logger, printJson } from "./output.ts";
import { withoutEscapes } from "../lib/safe-text.ts";
import { oneLine } from "../lib/text.ts";

function exitCodeFor(error: unknown): number {
  if (error instanceof CommandFailed) return error.exitCode;
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

/** What the CLI ends with for an error: its exit code and its one line. */
export interface Failure {
  exitCode: number;
  line: string;
}

/** The one mapping of errors to exit codes and lines; `reportError` prints what it answers. */
export function failureFor(error: unknown): Failure {
  return { exitCode: exitCodeFor(error), line: messageFor(error) };
}

/** Reports the error and answers the exit code to end with. */
export function reportError(error: unknown, options: { json: boolean }): number {
  const { exitCode: code, line: message } = failureFor(error);
  if (message) logger.error(message);
  if (process.env.AICAGE_UTIL_DEBUG && error instanceof Error && error.stack) logger.debug(error.stack);
  // A CommandFailed comes after the command printed its own result (JSON included).
  if (options.json && !(error instanceof CommandFailed)) {
    printJson({ error: { kind: errorKind(error), exitCode: code, message } });
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
