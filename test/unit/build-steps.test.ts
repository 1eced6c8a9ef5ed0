import { describe, expect, test } from "bun:test";
import type { BuildEvent } from "../../src/workloads/build-events.ts";
import { createBuildxPlainProgress } from "../../src/workloads/build-progress/buildx-plain.ts";
import { createClassicProgress } from "../../src/workloads/build-progress/classic.ts";
import { createBuildSteps, exitCodeOf, shortReason, shortStepName } from "../../src/workloads/build-steps.ts";

/** Status text per line of buildx plain output, as the terminal view shows it. */
function statusesOf(lines: string[], steps = createBuildSteps()) {
  const progress = createBuildxPlainProgress();
  return lines.map((line) =>
    progress
      .push(line)
      .map((event) => steps.push(event))
      .at(-1),
  );
}

// What `docker buildx build --progress=plain` printed for a failing build on Docker 20.10.
const BUILDX_FAILURE = `#0 building with "default" instance using docker driver
#1 [internal] load build definition from Dockerfile
#1 transferring dockerfile: 113B done
#1 DONE 0.0s
#4 [1/3] FROM docker.io/library/aicage-test-base:trixie
#4 DONE 0.0s
#5 [2/3] RUN echo hello-from-run
#5 CACHED
#6 [3/3] RUN echo bye && exit 3
#6 0.048 bye
#6 ERROR: executor failed running [/bin/sh -c echo bye && exit 3]: exit code: 3
------
 > [3/3] RUN echo bye && exit 3:
0.048 bye
------
ERROR: failed to solve: executor failed running [/bin/sh -c echo bye && exit 3]: exit code: 3`.split("\n");

describe("build steps from events", () => {
  test("buildx plain output: the failed step, the overall error, and status lines naming the step", () => {
    const steps = createBuildSteps();
    const statuses = statusesOf(BUILDX_FAILURE, steps);
    expect(steps.failedStep()).toBe("[3/3] RUN echo bye && exit 3");
    expect(steps.errorLine()).toBe(
      "failed to solve: executor failed running [/bin/sh -c echo bye && exit 3]: exit code: 3",
    );
    expect(statuses[8]).toBe("[3/3] RUN echo bye && exit 3");
    expect(statuses[9]).toBe("[3/3] RUN echo bye && exit 3 › bye");
    expect(statuses[7]).toBe("[2/3] RUN echo hello-from-run › CACHED");
  });

  test("events of the API's BuildKit trace: the failed step, no builder error line", () => {
    const steps = createBuildSteps();
    const step = { index: 3, name: "[2/2] RUN make" };
    const events: BuildEvent[] = [
      { kind: "step-started", ...step },
      { kind: "log", ...step, stream: 1, line: "compiling" },
      { kind: "step-failed", ...step, error: "executor failed running [make]: exit code: 2" },
    ];
    for (const event of events) steps.push(event);
    expect(steps.failedStep()).toBe("[2/2] RUN make");
    expect(steps.errorLine()).toBeUndefined();
  });

  test("classic builder output: the step running when the error came is the one that failed", () => {
    const steps = createBuildSteps();
    const classic = createClassicProgress();
    for (const event of classic.push("Step 1/2 : FROM base\n ---> 123\nStep 2/2 : RUN make\n ---> Running in abc\n"))
      steps.push(event);
    expect(classic.push("make: *** no rule\n").map((event) => steps.push(event))).toEqual([
      "[2/2] RUN make › make: *** no rule",
    ]);
    for (const event of classic.fail("exit code: 2")) steps.push(event);
    expect(steps.failedStep()).toBe("[2/2] RUN make");
    expect(classic.failedStep()).toBe("[2/2] RUN make");
  });

  test("a successful build names no failed step", () => {
    const steps = createBuildSteps();
    statusesOf(BUILDX_FAILURE.slice(0, 8), steps);
    expect(steps.failedStep()).toBeUndefined();
  });
});

// What `docker buildx build --progress=plain` printed on Docker 20.10 for two COPY steps whose
// sources are missing: both fail at once, [3/4] is printed failing first, the build ends on [2/4].
const BUILDX_TWO_FAILURES = `#5 [internal] load build context
#5 transferring context: 2B done
#5 DONE 0.0s
#6 [3/4] COPY missing-two /two
#6 ERROR: "/missing-two" not found: not found
#7 [2/4] COPY missing-one /one
#7 ERROR: "/missing-one" not found: not found
------
 > [2/4] COPY missing-one /one:
------
------
 > [3/4] COPY missing-two /two:
------
ERROR: failed to solve: failed to compute cache key: "/missing-one" not found: not found`.split("\n");

describe("two steps fail at once (buildx)", () => {
  test("the step named is the one the closing error is about", () => {
    const steps = createBuildSteps();
    statusesOf(BUILDX_TWO_FAILURES, steps);
    expect(steps.errorLine()).toBe('failed to solve: failed to compute cache key: "/missing-one" not found: not found');
    expect(steps.failedStep()).toBe("[2/4] COPY missing-one /one");
  });
});

describe("what a failure line needs", () => {
  test("the last lines of the failed step's own output, not of other steps, without buildx's times", () => {
    const steps = createBuildSteps();
    const progress = createBuildxPlainProgress();
    const lines = [
      "#5 [2/3] RUN echo other",
      "#5 0.010 from another step",
      "#6 [3/3] RUN curl -fsSL https://example.org/agent.tgz -o /tmp/a.tgz",
      ...Array.from({ length: 7 }, (_, i) => `#6 0.0${i}1 line ${i + 1}`),
      "#6 0.090 curl: (6) Could not resolve host: example.org",
      '#6 ERROR: process "/bin/sh -c curl -fsSL https://example.org/agent.tgz -o /tmp/a.tgz" did not complete successfully: exit code: 6',
    ];
    for (const line of lines) for (const event of progress.push(line)) steps.push(event);
    expect(steps.failedStepOutput()).toEqual([
      "line 4",
      "line 5",
      "line 6",
      "line 7",
      "curl: (6) Could not resolve host: example.org",
    ]);
    expect(createBuildSteps().failedStepOutput()).toEqual([]);
  });

  test("exit codes in the words of BuildKit, the classic builder and buildah", () => {
    expect(exitCodeOf("executor failed running [/bin/sh -c make]: exit code: 2")).toBe(2);
    expect(exitCodeOf('process "/bin/sh -c make" did not complete successfully: exit code: 6')).toBe(6);
    expect(exitCodeOf("The command '/bin/sh -c make' returned a non-zero code: 127")).toBe(127);
    expect(exitCodeOf('error building at STEP "RUN make": exit status 3')).toBe(3);
    expect(exitCodeOf("failed to compute cache key: not found")).toBeUndefined();
  });

  test("a long RUN step on one short line; the reason without the command repeated", () => {
    const step =
      '[3/3] RUN set -e; \\\n    echo "downloading the agent tarball from the release server" && curl -fsSL https://example.org/x -o /tmp/x';
    const short = shortStepName(step);
    expect(short.length).toBeLessThanOrEqual(72);
    expect(short).toStartWith('[3/3] RUN set -e; echo "downloading');
    expect(short).toEndWith("…");
    expect(shortStepName("[2/2] COPY a b")).toBe("[2/2] COPY a b");
    const command =
      'set -e; echo "downloading the agent tarball from the release server" && curl -fsSL https://example.org/x -o /tmp/x';
    expect(shortReason(`executor failed running [/bin/sh -c ${command}]: exit code: 6`, `[3/3] RUN ${command}`)).toBe(
      "executor failed running [/bin/sh -c …]: exit code: 6",
    );
    expect(shortReason("x".repeat(500), undefined)).toHaveLength(200);
  });
});
