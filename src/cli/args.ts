// Flag checks citty does not do: unknown flags are usage errors (a typo must not be
// ignored silently in a script), and repeatable flags (-t A -t B) keep every value.
import type { ArgsDef } from "citty";
import { UsageError } from "../core/errors.ts";
import { neutralise } from "../lib/safe-text.ts";

const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Throws a UsageError naming the first flag that `args` does not define. */
export function rejectUnknownFlags(rawArgs: string[], args: ArgsDef, command: string): void {
  const known = new Set<string>(["help", "h"]);
  const booleans = new Set<string>();
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    const alias = (def as { alias?: string | string[] }).alias;
    const aliases = alias === undefined ? [] : Array.isArray(alias) ? alias : [alias];
    for (const key of [name, ...aliases]) {
      known.add(key);
      known.add(camel(key));
      if (def.type === "boolean") booleans.add(camel(key));
    }
  }
  for (const token of rawArgs) {
    if (token === "--") break;
    if (!token.startsWith("-") || token === "-" || /^-\d/.test(token)) continue;
    const name = token.replace(/^--?/, "").split("=")[0]!;
    if (token.startsWith("--")) {
      const negated = name.startsWith("no-") && booleans.has(camel(name.slice(3)));
      if (!known.has(name) && !known.has(camel(name)) && !negated) {
        throw new UsageError(`unknown option --${name} for '${command}'; see '${command} --help'`);
      }
    } else if (!known.has(name[0]!)) {
      throw new UsageError(`unknown option -${name[0]} for '${command}'; see '${command} --help'`);
    }
  }
}

/**
 * Throws a UsageError for a value of an enum flag that is not one of its options, in our words
 * (citty's own check would print colour codes and another wording).
 */
export function rejectBadEnumValues(rawArgs: string[], args: ArgsDef): void {
  for (const [name, def] of Object.entries(args)) {
    if (def.type !== "enum") continue;
    const options = (def as { options?: string[] }).options ?? [];
    for (const value of repeatedValues(rawArgs, name)) {
      if (!options.includes(value)) {
        const choices =
          options.length > 1 ? `${options.slice(0, -1).join(", ")} or ${options.at(-1)}` : options.join("");
        throw new UsageError(`--${name} takes ${choices}, not '${value}'`);
      }
    }
  }
}

/** Every value given for a repeatable flag, in order: `--tag a -t b --tag=c` gives [a, b, c]. */
export function repeatedValues(rawArgs: string[], long: string, short?: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const token = rawArgs[i]!;
    if (token === "--") break;
    if (token === `--${long}` || (short && token === `-${short}`)) {
      const value = rawArgs[i + 1];
      if (value === undefined) throw new UsageError(`option ${token} needs a value`);
      values.push(value);
      i++;
    } else if (token.startsWith(`--${long}=`)) {
      values.push(token.slice(long.length + 3));
    } else if (short && token.startsWith(`-${short}`) && token.length > 2 && !token.startsWith("--")) {
      values.push(token.slice(2));
    }
  }
  return values;
}

/** Parses a whole number option; undefined stays undefined. */
export function integerOption(value: string | undefined, flag: string, min = 0, max?: number): number | undefined {
  if (value === undefined || value === "") return undefined;
  if (!/^\d+$/.test(String(value)) || Number(value) < min || (max !== undefined && Number(value) > max)) {
    const range = max === undefined ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`${flag} takes a whole number ${range}, not '${neutralise(String(value))}'`);
  }
  return Number(value);
}
