// What a run of many checks reports as it goes, for a live display: each script's start and
// end, in whichever place it runs. A display counts done, running and failed from these and
// names the slowest still running; nothing here knows how it is shown.
import type { CheckPlace } from "./order.ts";

export type CheckEvent =
  /** a place takes its turn with this many agents */
  | { kind: "place"; place: CheckPlace; agents: number }
  | { kind: "started"; agent: string; place: CheckPlace }
  | { kind: "finished"; agent: string; place: CheckPlace; ok: boolean };
