// HTTP downloads for `upgrade`, with deadlines: an answer must start within CONNECT_MS and
// bytes keep coming (no gap over STALL_MS), or the download is given up. A body that ends
// before its Content-Length is an error, not a short file; one larger than the caller's cap
// is given up too, before it fills the disk.
import type { FileHandle } from "node:fs/promises";
import { createHash } from "node:crypto";
import { sizeInWords } from "../lib/text.ts";

const CONNECT_MS = 30_000;
const STALL_MS = 60_000;
const USER_AGENT = "aicage-util-upgrade";

export class DownloadError extends Error {
  override name = "DownloadError";
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Fetch with a deadline for the answer and a watchdog for the body; answers the response and the body's watchdog. */
async function request(
  url: string,
  init: RequestInit,
  signal?: AbortSignal,
): Promise<{ response: Response; feed: () => void; stop: () => void; controller: AbortController }> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  let timer = setTimeout(
    () => controller.abort(new DownloadError(`no answer from ${url} within ${CONNECT_MS / 1000}s`)),
    CONNECT_MS,
  );
  const stop = () => {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  };
  try {
    const response = await fetch(url, { ...init, signal: controller.signal, headers: { "user-agent": USER_AGENT } });
    clearTimeout(timer);
    timer = setTimeout(
      () => controller.abort(new DownloadError(`the download from ${url} stalled (nothing for ${STALL_MS / 1000}s)`)),
      STALL_MS,
    );
    const feed = () => {
      clearTimeout(timer);
      timer = setTimeout(
        () => controller.abort(new DownloadError(`the download from ${url} stalled (nothing for ${STALL_MS / 1000}s)`)),
        STALL_MS,
      );
    };
    return { response, feed, stop, controller };
  } catch (error) {
    stop();
    throw failure(url, error, controller.signal);
  }
}

function failure(url: string, error: unknown, signal: AbortSignal): Error {
  if (signal.aborted && signal.reason instanceof Error) return signal.reason;
  if (error instanceof DownloadError) return error;
  const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as { code?: string }).code;
  return new DownloadError(`cannot download ${url}: ${reasonFor(cause, (error as Error).message)}`);
}

/** The runtime's codes in words; the runtime's own advice ("pass `verbose: true` …") is for its developers, not ours. */
const REASONS: Record<string, string> = {
  TooManyRedirects: "it redirects too many times (a redirect loop); check AICAGE_UTIL_DOWNLOAD_URL or try again later",
  ECONNREFUSED: "connection refused",
  ConnectionRefused: "connection refused",
  ENOTFOUND: "the host name does not resolve",
  ECONNRESET: "the connection was reset",
  ConnectionClosed: "the connection closed",
  ETIMEDOUT: "the connection timed out",
};

function reasonFor(code: string | undefined, message: string): string {
  if (code && REASONS[code]) return REASONS[code];
  const words = String(message)
    .split("\n")[0]!
    .replace(/\s*For more information, pass `verbose: true`.*$/, "")
    .replace(/^[A-Za-z]+: /, "");
  return `${code && !words.includes(code) ? `${code}: ` : ""}${words}`.trim() || "no answer";
}

/** Where a URL redirects to, without following it; undefined when it answers without a redirect. */
export async function redirectTarget(url: string, signal?: AbortSignal): Promise<string | undefined> {
  const { response, stop } = await request(url, { redirect: "manual", method: "GET" }, signal);
  try {
    await response.body?.cancel().catch(() => undefined);
    if (response.status >= 300 && response.status < 400) {
      const location = response.headers.get("location");
      return location ? new URL(location, url).href : undefined;
    }
    if (!response.ok) throw new DownloadError(`${url} answered HTTP ${response.status}`, response.status);
    return undefined;
  } finally {
    stop();
  }
}

/** A small text file (SHA256SUMS, its signature), at most `max` bytes. */
export async function downloadText(url: string, signal?: AbortSignal, max = 1024 * 1024): Promise<string> {
  const { response, feed, stop, controller } = await request(url, { redirect: "follow" }, signal);
  try {
    if (!response.ok) throw new DownloadError(`${url} answered HTTP ${response.status}`, response.status);
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of response.body ?? []) {
      feed();
      size += chunk.length;
      if (size > max) throw new DownloadError(`${url} is larger than ${max} bytes, more than the file it should be`);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString("utf8");
  } catch (error) {
    throw failure(url, error, controller.signal);
  } finally {
    stop();
  }
}

/**
 * Streams a file of at most `maxBytes` into `file` (already open), hashing it on the way;
 * answers its SHA-256 and size. A larger one is refused by its Content-Length, or once more
 * than `maxBytes` came.
 */
export async function downloadInto(
  url: string,
  file: FileHandle,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<{ sha256: string; bytes: number }> {
  const { response, feed, stop, controller } = await request(url, { redirect: "follow" }, signal);
  const hash = createHash("sha256");
  let bytes = 0;
  try {
    if (!response.ok) throw new DownloadError(`${url} answered HTTP ${response.status}`, response.status);
    const length = response.headers.get("content-length");
    const expected = length !== null && /^\d+$/.test(length) ? Number(length) : undefined;
    const tooLarge = () =>
      new DownloadError(`${url} is larger than ${sizeInWords(maxBytes)}, more than a release binary`);
    if (expected !== undefined && expected > maxBytes) throw tooLarge();
    try {
      for await (const chunk of response.body ?? []) {
        feed();
        if (bytes + chunk.length > maxBytes) throw tooLarge();
        hash.update(chunk);
        bytes += chunk.length;
        await file.write(chunk);
      }
    } catch (error) {
      if (controller.signal.aborted || error instanceof DownloadError) throw error;
      const code = (error as { code?: string }).code;
      throw new DownloadError(
        `the download of ${url} broke off after ${bytes}${expected ? ` of ${expected}` : ""} bytes (${reasonFor(code, (error as Error).message)})`,
      );
    }
    if (expected !== undefined && bytes !== expected) {
      throw new DownloadError(`the download of ${url} broke off after ${bytes} of ${expected} bytes`);
    }
    return { sha256: hash.digest("hex"), bytes };
  } catch (error) {
    throw failure(url, error, controller.signal);
  } finally {
    stop();
  }
}
