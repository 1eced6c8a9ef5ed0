// Exit codes, stable for scripts (documented in docs/json-and-exit-codes.md). Errors are
// mapped to them in one place, src/cli/report-error.ts.
export const ExitCode = {
  ok: 0,
  /** the work itself failed: a check, a build */
  failed: 1,
  /** bad usage or bad input */
  usage: 2,
  /** Docker engine unreachable or access refused, and the command cannot go on without it */
  engine: 3,
  /** `upgrade --check`: a newer release exists (as `dnf check-update` answers 100) */
  newerRelease: 100,
  /** `version-check --exit-code`: a version changed since the last check (the same "something newer" code) */
  versionChanged: 100,
  /** interrupted (Ctrl-C) */
  interrupted: 130,
} as const;

/** The work failed and was already reported; carries the exit code to end with. */
export class CommandFailedError extends Error {
  override name = "CommandFailedError";
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.failed,
  ) {
    super(message);
  }
}
