import { describe, expect, test } from "bun:test";
import { naturalSort } from "../../src/lib/natural-sort.ts";

describe("naturalSort", () => {
  test("numbers inside names by value, not by byte", () => {
    expect(naturalSort(["a10", "a2", "a1", "a11", "b1", "a20"])).toEqual(["a1", "a2", "a10", "a11", "a20", "b1"]);
  });

  test("case and leading zeros do not split names apart; ties keep a fixed order", () => {
    expect(naturalSort(["Claude", "aider", "codex", "Aider", "agent-02", "agent-1"])).toEqual([
      "agent-1",
      "agent-02",
      "Aider",
      "aider",
      "Claude",
      "codex",
    ]);
  });

  test("does not change its input", () => {
    const names = ["b", "a"];
    naturalSort(names);
    expect(names).toEqual(["b", "a"]);
  });
});
