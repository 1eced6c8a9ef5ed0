// Keeps the first `limit` bytes of an output stream and remembers whether more came,
// so a script or container printing megabytes cannot exhaust memory.
export class CappedOutput {
  private chunks: Uint8Array[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly limit: number) {}

  push(data: Uint8Array): void {
    const room = this.limit - this.size;
    if (data.length > room) this.truncated = true;
    if (room <= 0) return;
    const kept = data.length > room ? data.subarray(0, room) : data;
    // Copy: the producer may reuse the chunk's buffer.
    this.chunks.push(kept.slice());
    this.size += kept.length;
  }

  /** The kept bytes as UTF-8; invalid sequences become U+FFFD instead of failing. */
  text(): string {
    const all = new Uint8Array(this.size);
    let offset = 0;
    for (const chunk of this.chunks) {
      all.set(chunk, offset);
      offset += chunk.length;
    }
    return new TextDecoder("utf-8", { fatal: false }).decode(all);
  }
}
