// The Engine streams pull, push and build progress as one JSON object per line.
// Lines arrive split across chunks at any byte: lib/lines.ts carries the tail over.
import { LineTooLongError, readLines } from "../../lib/lines.ts";
import { sizeInWords } from "../../lib/text.ts";
import { DockerStreamError } from "../errors.ts";

/**
 * The longest progress line taken, in characters: one JSON message of an engine is far shorter
 * (build output comes in many messages); an endless one would fill memory.
 */
export const MAX_PROGRESS_LINE = 16 * 1024 * 1024;

export interface ProgressMessage {
  id?: string;
  status?: string;
  progress?: string;
  progressDetail?: { current?: number; total?: number };
  stream?: string;
  aux?: unknown;
  error?: string;
  errorDetail?: { message?: string; code?: number };
  [key: string]: unknown;
}

/**
 * Decodes a JSON-lines progress stream. A line carrying `error`/`errorDetail` ends the
 * stream with a DockerStreamError: the engine answers 200 and reports failures in-band.
 */
export async function* readProgress(
  body: ReadableStream<Uint8Array>,
  operation: string,
): AsyncGenerator<ProgressMessage> {
  const lines = readLines(body, MAX_PROGRESS_LINE);
  for await (const line of guarded(lines, operation)) {
    if (!line.trim()) continue;
    let message: ProgressMessage;
    try {
      message = JSON.parse(line);
    } catch {
      throw new DockerStreamError(operation, `unreadable progress line: ${line.slice(0, 200)}`);
    }
    if (message.errorDetail || message.error) {
      throw new DockerStreamError(operation, (message.errorDetail?.message ?? message.error ?? "").trim());
    }
    yield message;
  }
}

/** The lines, with a line that is too long said as the stream's failure. */
async function* guarded(lines: AsyncGenerator<string>, operation: string): AsyncGenerator<string> {
  try {
    yield* lines;
  } catch (error) {
    if (error instanceof LineTooLongError)
      throw new DockerStreamError(
        operation,
        `the engine sent a progress line longer than ${sizeInWords(MAX_PROGRESS_LINE)}`,
      );
    throw error;
  }
}
