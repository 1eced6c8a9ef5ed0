// Follows plain build progress lines and keeps track of the steps: BuildKit's plain output
// ("#5 [2/3] RUN make", "#5 0.42 compiling", "#5 ERROR: ..."), which both ways of building
// produce, and the classic builder's ("Step 2/3 : RUN make"). It names the step that failed
// and gives a terminal's one-line display its text.
export interface StepTracker {
  /** Reads one line; answers the text for a one-line status display. */
  push(line: string): string;
  /** The step whose error was reported, else the last classic step, if any. */
  failedStep(): string | undefined;
  /** The last line that reports the build's overall error ("ERROR: failed to solve: ..."). */
  errorLine(): string | undefined;
}

const NUMBERED = /^#(\d+) (.*)$/;
const CLASSIC_STEP = /^Step \d+\/\d+ : /;
/** The seconds-since-start prefix BuildKit puts before each line of a step's output. */
const ELAPSED = /^\d+\.\d+ /;

export function createStepTracker(): StepTracker {
  const names = new Map<string, string>();
  let failed: string | undefined;
  let classicStep: string | undefined;
  let lastError: string | undefined;

  return {
    push(line) {
      const numbered = NUMBERED.exec(line);
      if (numbered) {
        const [, id, text] = numbered as unknown as [string, string, string];
        const name = names.get(id);
        // The first line of a step is its name; the rest is its output and outcome.
        if (name === undefined) {
          names.set(id, text);
          return text;
        }
        if (/^ERROR\b/.test(text)) failed = name;
        return `${name} › ${text.replace(ELAPSED, "")}`;
      }
      if (CLASSIC_STEP.test(line)) {
        classicStep = line;
        return line;
      }
      if (/^error\b:?/i.test(line)) lastError = line.replace(/^error\b:?\s*/i, "");
      return classicStep && line.trim() ? `${classicStep} › ${line.trim()}` : line;
    },
    failedStep: () => failed ?? classicStep,
    errorLine: () => lastError,
  };
}
