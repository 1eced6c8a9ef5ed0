// The Engine streams pull, push and build progress as one JSON object per line.
// Lines arrive split across chunks at any byte, so we carry the tail over.
import { DockerStreamError } from "../errors.ts";

/** Splits a byte stream into text lines (without the newline), decoding UTF-8 across chunk edges. */
export async function* readLines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of body) {
    pending += decoder.decode(chunk, { stream: true });
    let newline = pending.indexOf("\n");
    while (newline >= 0) {
      const line = pending.slice(0, newline).replace(/\r$/, "");
      pending = pending.slice(newline + 1);
      yield line;
      newline = pending.indexOf("\n");
    }
  }
  pending += decoder.decode();
  if (pending.trim()) yield pending.replace(/\r$/, "");
}

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
