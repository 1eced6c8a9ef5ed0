import { describe, expect, test } from "bun:test";
import { createStepTracker } from "../../src/local-build/step-tracker.ts";

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

describe("step tracker", () => {
  test("buildx plain output: the failed step, the overall error, and status lines naming the step", () => {
    const steps = createStepTracker();
    const statuses = BUILDX_FAILURE.map((line) => steps.push(line));
    expect(steps.failedStep()).toBe("[3/3] RUN echo bye && exit 3");
    expect(steps.errorLine()).toBe("failed to solve: executor failed running [/bin/sh -c echo bye && exit 3]: exit code: 3");
    expect(statuses[8]).toBe("[3/3] RUN echo bye && exit 3");
    expect(statuses[9]).toBe("[3/3] RUN echo bye && exit 3 › bye");
    expect(statuses[7]).toBe("[2/3] RUN echo hello-from-run › CACHED");
  });

  test("lines from the API's BuildKit trace (no elapsed time, ERROR without a colon)", () => {
    const steps = createStepTracker();
    for (const line of ["#3 [2/2] RUN make", "#3 compiling", "#3 ERROR executor failed running [make]: exit code: 2"]) steps.push(line);
    expect(steps.failedStep()).toBe("[2/2] RUN make");
    expect(steps.errorLine()).toBeUndefined();
  });

  test("classic builder output: the last step is the one that failed", () => {
    const steps = createStepTracker();
    for (const line of ["Step 1/2 : FROM base", " ---> 123", "Step 2/2 : RUN make", " ---> Running in abc"]) steps.push(line);
    expect(steps.push("make: *** no rule")).toBe("Step 2/2 : RUN make › make: *** no rule");
    expect(steps.failedStep()).toBe("Step 2/2 : RUN make");
  });

  test("a successful build names no failed step", () => {
    const steps = createStepTracker();
    for (const line of BUILDX_FAILURE.slice(0, 8)) steps.push(line);
    expect(steps.failedStep()).toBeUndefined();
  });
});
