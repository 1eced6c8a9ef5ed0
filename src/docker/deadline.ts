// The deadline of one Engine API call: a timer that aborts the call when it runs out. The
// caller re-arms it whenever the call moves (an upload's chunk, an answer's chunk).
export class Deadline {
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The error the call was aborted with, once the time ran out. */
  reason: Error | undefined;

  /** `ms: false`: no deadline; arm() then does nothing. */
  constructor(
    private readonly controller: AbortController,
    private readonly ms: number | false,
    private readonly error: () => Error,
  ) {}

  /** Starts the time again from now. */
  arm(): void {
    if (this.ms === false) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.reason = this.error();
      this.controller.abort(this.reason);
    }, this.ms);
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
