// A byte stream passed on as it is, with a word to the caller at each chunk, at its end and
// at a failure: what keeps a deadline moving while data flows.
export interface StreamHooks {
  onChunk?: () => void;
  /** The stream ended, or its reader cancelled it. */
  onEnd?: () => void;
  /** The source failed; answers the error the reader sees instead (or the same one). */
  onError?: (error: unknown) => unknown;
}

/** The source, read a chunk at a time as the consumer pulls: nothing is read ahead. */
export function watchedStream(source: ReadableStream<Uint8Array>, hooks: StreamHooks): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  const pull = async (controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> => {
    let next: Awaited<ReturnType<typeof reader.read>>;
    try {
      next = await reader.read();
    } catch (error) {
      controller.error(hooks.onError ? hooks.onError(error) : error);
      return;
    }
    if (!next.done) {
      hooks.onChunk?.();
      controller.enqueue(next.value);
      return;
    }
    hooks.onEnd?.();
    controller.close();
  };
  const cancel = (reason: unknown): Promise<void> => {
    hooks.onEnd?.();
    return reader.cancel(reason);
  };
  return new ReadableStream<Uint8Array>({ pull, cancel }, { highWaterMark: 0 });
}
