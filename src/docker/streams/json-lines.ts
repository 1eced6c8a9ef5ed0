// The Engine streams pull, push and build progress as one JSON object per line.
// Lines arrive split across chunks at any byte: lib/lines.ts carries the tail over.
import { readLines } from "../../lib/lines.ts";
import { DockerStreamError } from "../errors.ts";

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
  for await (const line of readLines(body)) {
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
