// The one place that knows which JavaScript runtime runs us. Everything that differs
// between Bun (the compiled binary, the tests) and Deno (`deno run -A src/cli.ts`)
// lives here: how fetch reaches a unix socket and how it presents client certificates.
import { runtime } from "std-env";
import { readEngineFile } from "./engine-files.ts";
import { checkTlsTexts } from "./tls-files.ts";

export type RuntimeName = "bun" | "deno" | "node" | "other";

export const runtimeName: RuntimeName =
  runtime === "bun" || runtime === "deno" || runtime === "node" ? (runtime as RuntimeName) : "other";

export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
  /** false only for an explicit "skip TLS verify" context */
  verify: boolean;
}

/** Extra `fetch` init options that send a request over a unix socket. */
export function unixSocketFetchOptions(socketPath: string): Record<string, unknown> {
  if (runtimeName === "deno") {
    const deno = (globalThis as any).Deno;
    return { client: deno.createHttpClient({ proxy: { transport: "unix", path: socketPath } }) };
  }
  if (runtimeName === "bun") return { unix: socketPath };
  throw new Error(`unix sockets need Bun or Deno; this is ${runtimeName}`);
}

/** Extra `fetch` init options that present client certificates to a TLS endpoint. */
export function tlsFetchOptions(files: TlsFiles): Record<string, unknown> {
  // Bounded, regular files only: a FIFO named ca.pem would block for good. A missing file is an error here.
  const read = (path?: string) => {
    if (!path) return undefined;
    const text = readEngineFile(path);
    if (text === undefined) throw new Error(`${path} does not exist`);
    return text;
  };
  const ca = read(files.ca);
  const cert = read(files.cert);
  const key = read(files.key);
  checkTlsTexts({ ca, cert, key }, files);
  if (runtimeName === "deno") {
    const deno = (globalThis as any).Deno;
    return { client: deno.createHttpClient({ caCerts: ca ? [ca] : undefined, cert, key }) };
  }
  return { tls: { ca, cert, key, rejectUnauthorized: files.verify } };
}
