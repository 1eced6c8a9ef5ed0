// Small text helpers shared by every layer that shows text to a person.

/** Folds a multi-line message into one line: newlines and the spaces around them become one space. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}
