// What a failed Engine API call becomes: a typed error for a request that got no HTTP answer,
// and one line of words for an answer whose body is not what the engine sends.
import type { DockerEndpoint } from "./docker-endpoint.ts";
import { EnginePermissionError, EngineUnreachableError, NotAnEngineError } from "./errors.ts";
import { quoted, withoutEscapes } from "../lib/safe-text.ts";
import { oneLine } from "../lib/text.ts";
import { sshEngineError } from "./ssh/ssh-errors.ts";
import type { SshFailure } from "./ssh/ssh-failure.ts";
import { explainTlsFailure } from "./tls-failure.ts";

/**
 * Maps a network-level failure (no HTTP answer at all) of `request` to a typed error. Over
 * ssh, `sshFailure` (why ssh ended) names the reason better than the local socket can.
 */
export function connectionError(
  error: unknown,
  endpoint: DockerEndpoint,
  request: string,
  sshFailure?: SshFailure,
): Error {
  // Bun puts a code on the error; Deno nests the OS error a few causes deep.
  const causes: any[] = [];
  for (let cause: any = error; cause && causes.length < 6; cause = cause.cause) causes.push(cause);
  const aborted = causes.find((cause) => cause?.name === "AbortError" || cause?.name === "TimeoutError");
  if (aborted?.name === "AbortError") return aborted as Error;
  if (sshFailure) return sshEngineError(endpoint, sshFailure);
  if (aborted) return aborted as Error;
  const code = String(causes.find((cause) => cause?.code)?.code ?? "");
  const text = causes.map((cause) => String(cause?.message ?? "")).join(" ");
  if (code === "EACCES" || code === "EPERM" || /permission denied|os error 13\b/i.test(text)) {
    return new EnginePermissionError(endpoint);
  }
  const tls = explainTlsFailure(code, text, endpoint, request);
  if (tls) return new EngineUnreachableError(endpoint, tls.reason, tls.fix);
  if (
    /malformed_http|invalid http|parse error|invalid status line|invalid header|http\/0\.9/i.test(`${code} ${text}`)
  ) {
    return new NotAnEngineError(endpoint, `an answer that is not HTTP to ${request}`);
  }
  return new EngineUnreachableError(endpoint, unreachableReason(code, text, request, causes.at(-1)));
}

/** Why nothing answered, in a few words. */
function unreachableReason(code: string, text: string, request: string, deepest: any): string {
  if (code === "ENOENT" || /no such file|os error 2\b/i.test(text)) return "the socket does not exist";
  if (code === "ECONNREFUSED" || /connection refused|os error 111\b/i.test(text)) return "connection refused";
  if (code === "ECONNRESET" || /connection (was )?(closed|reset)|closed unexpectedly|os error 104\b/i.test(text)) {
    return `the connection closed before an answer to ${request} came`;
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || /failed to lookup|dns error/i.test(text))
    return "the host name does not resolve";
  if (code) return code;
  if (deepest?.message) return withoutEscapes(String(deepest.message).split("\n")[0]!);
  return "no answer";
}

/**
 * The engine answers errors as `{"message": "..."}`; anything else (a proxy's error page) is
 * named, not printed. One line, without control characters, either way.
 */
export function engineMessage(text: string, response: Response): string {
  try {
    const parsed = JSON.parse(text);
    if (typeof parsed?.message === "string") return withoutEscapes(oneLine(parsed.message));
  } catch {
    // not JSON
  }
  if (!text.trim()) return "no message";
  return describeBody(text, response);
}

/** A few words on a body that should have been JSON: what a person would call it. */
export function describeBody(text: string, response: Response): string {
  const type = (response.headers.get("content-type") ?? "").split(";")[0]!.trim();
  if (/html/i.test(type) || /^\s*</.test(text)) return "an HTML page";
  const start = withoutEscapes(text.trim().slice(0, 40));
  return `text that is not JSON${type ? ` (${type})` : ""}: ${quoted(start, 50)}`;
}
