// Splits a byte stream into text lines: UTF-8 decoded across chunk edges, "\n" or "\r\n"
// endings, the last line given even without a newline. The one line splitter of the tool:
// progress streams, container output and build logs all arrive cut at arbitrary bytes.
export interface LineSplitter {
  /** Feeds a chunk; answers the lines it completed. */
  push(chunk: Uint8Array | string): string[];
  /** At the end of the stream: answers what is left after the last newline, if anything. */
  end(): string[];
}

/** A line longer than the splitter was told to take: the stream is not what it claims to be. */
export class LineTooLongError extends Error {
  override name = "LineTooLongError";
  constructor(readonly maxLength: number) {
    super(`a line longer than ${maxLength} characters`);
  }
}

/** `maxLineLength`: a line (or what is pending of one) longer than this throws LineTooLongError; default none. */
export function createLineSplitter(maxLineLength = Number.POSITIVE_INFINITY): LineSplitter {
  const decoder = new TextDecoder();
  let pending = "";
  const checked = (lines: string[]): string[] => {
    if (pending.length > maxLineLength || lines.some((line) => line.length > maxLineLength))
      throw new LineTooLongError(maxLineLength);
    return lines;
  };
  const take = (): string[] => {
    const lines = pending.split("\n");
    pending = lines.pop() ?? "";
    return lines.map(stripCarriageReturn);
  };
  return {
    push(chunk) {
      const text = typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
      pending += text;
      // What is pending holds no newline before this chunk: only the chunk is searched, so a
      // line of megabytes arriving in small pieces is not searched again with every piece.
      return checked(text.includes("\n") ? take() : []);
    },
    end() {
      pending += decoder.decode();
      const rest = pending ? [stripCarriageReturn(pending)] : [];
      pending = "";
      return rest;
    },
  };
}

/** The lines of a whole stream, as they arrive; see createLineSplitter for `maxLineLength`. */
export async function* readLines(body: AsyncIterable<Uint8Array>, maxLineLength?: number): AsyncGenerator<string> {
  const splitter = createLineSplitter(maxLineLength);
  for await (const chunk of body) yield* splitter.push(chunk);
  yield* splitter.end();
}

function stripCarriageReturn(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}
