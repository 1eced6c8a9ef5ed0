// Errors that mean the same thing in every feature. The CLI maps them to exit codes and
// words in one place (src/cli/report-error.ts); features raise them without knowing the CLI.

/** Bad usage or bad input (a flag value, a path, a setting): the caller can fix the call. */
export class UsageError extends Error {
  override name = "UsageError";
}
