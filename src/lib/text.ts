// Small text helpers shared by every layer that shows text to a person.

/** Folds a multi-line message into one line: newlines and the spaces around them become one space. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

export interface ClipOptions {
  /** what marks the cut; default "…" */
  mark?: string;
  /** drop the white space the cut leaves at its end, before the mark; default false */
  trimEnd?: boolean;
}

/** The text, or when longer than `max` characters its start cut so that it and the mark fit in `max`. */
export function clip(text: string, max: number, options: ClipOptions = {}): string {
  if (text.length <= max) return text;
  const mark = options.mark ?? "…";
  const kept = text.slice(0, Math.max(0, max - mark.length));
  return `${options.trimEnd ? kept.trimEnd() : kept}${mark}`;
}

/** A size in words: "16 MiB" when it is a whole number of MiB (or KiB), else bytes. */
export function sizeInWords(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
