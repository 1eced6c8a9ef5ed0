// A build that ran and failed (as opposed to one that could not start): it carries what the
// user needs to see, the step that failed and why; the caller adds the log.
export class BuildStepError extends Error {
  override name = "BuildStepError";
  constructor(
    /** the builder's own words, one line */
    readonly reason: string,
    /** the step that failed, e.g. "[3/4] RUN make", when known */
    readonly step?: string,
  ) {
    super(step ? `failed at step ${step}: ${reason}` : `failed: ${reason}`);
  }
}

/** The failure whose error the final error holds (or the other way round), else the first. */
export function failingStep<T extends { error: string }>(failures: T[], finalError?: string): T | undefined {
  const final = finalError?.trim();
  const matches = (failure: T) => {
    const error = failure.error.trim();
    return Boolean(final && error && (final.includes(error) || error.includes(final)));
  };
  return (final ? failures.find(matches) : undefined) ?? failures[0];
}
