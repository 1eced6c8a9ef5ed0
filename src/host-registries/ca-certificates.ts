// Collects the PEM certificates of the CA files and folders the host names, once each
// (the same certificate in a bundle, a folder of hashed links and an extra file counts
// once), within fixed bounds: a folder of certificates can be large, and a variable can
// name anything. Only "-----BEGIN CERTIFICATE-----" blocks are taken; keys, CRLs and
// DER files are ignored.
import { join } from "node:path";
import type { HostFiles } from "./host-files.ts";
import { readFailure } from "./host-files.ts";

/** Bytes read from one file; a bundle of every public CA is about 220 KB. */
const MAX_FILE_BYTES = 8 * 1024 * 1024;
/** Bytes read in all, folders included. */
const MAX_READ_BYTES = 32 * 1024 * 1024;
/** Files looked at in one folder. */
const MAX_FOLDER_ENTRIES = 4096;
/** PEM text handed on. */
export const MAX_CA_PEM_BYTES = 4 * 1024 * 1024;

export interface CaSource {
  /** what named it: `$SSL_CERT_FILE`, `/root/.npmrc cafile`, … */
  origin: string;
  kind: "file" | "folder" | "pem";
  /** a path for file and folder, PEM text for pem */
  value: string;
}

export interface CaCollection {
  pem: string | null;
  count: number;
  /** per source that contributed: how many certificates it added that no earlier one had */
  contributions: Array<{ origin: string; path: string | null; added: number }>;
  notices: string[];
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/g;

/** The certificates in a text, each as a normalised PEM block. */
export function pemCertificates(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(PEM_BLOCK)) {
    const body = match[1]!.replace(/\s+/g, "");
    if (!body) continue;
    const lines = body.match(/.{1,64}/g)!.join("\n");
    out.push(`-----BEGIN CERTIFICATE-----\n${lines}\n-----END CERTIFICATE-----\n`);
  }
  return out;
}

export function collectCaCertificates(sources: CaSource[], files: HostFiles): CaCollection {
  const collector = new CaCollector(files);
  for (const source of sources) {
    if (collector.full) break;
    collector.addSource(source);
  }
  return collector.collection();
}

/** The certificates collected so far, within the bounds, and what the sources contributed. */
class CaCollector {
  /** No more certificates fit in MAX_CA_PEM_BYTES. */
  full = false;
  private readonly seen = new Set<string>();
  private readonly pems: string[] = [];
  private readonly contributions: CaCollection["contributions"] = [];
  private readonly notices: string[] = [];
  /** Each file read, by real path: null when it gave certificates, else why it was skipped. */
  private readonly visited = new Map<string, { skipped: string | null }>();
  private readBytes = 0;
  private pemBytes = 0;

  constructor(private readonly files: HostFiles) {}

  addSource(source: CaSource): void {
    if (source.kind === "pem") {
      const { added } = this.take(source.value);
      if (added) this.contributions.push({ origin: source.origin, path: null, added });
      return;
    }
    if (source.kind === "file") {
      const added = this.readFile(source.value, source.origin, false);
      if (added !== null) this.contributions.push({ origin: source.origin, path: source.value, added });
      return;
    }
    this.readFolder(source);
  }

  collection(): CaCollection {
    const { pems, contributions, notices } = this;
    if (this.full) notices.push(`CA certificates beyond ${MAX_CA_PEM_BYTES / 1024 / 1024} MiB were left out`);
    return { pem: pems.length ? pems.join("") : null, count: pems.length, contributions, notices };
  }

  private readFolder(source: CaSource): void {
    const names = this.files.list(source.value);
    if (!names) {
      this.notices.push(`${source.origin}: ${source.value} is not a folder`);
      return;
    }
    if (names.length > MAX_FOLDER_ENTRIES) {
      this.notices.push(
        `${source.origin}: only the first ${MAX_FOLDER_ENTRIES} of ${names.length} files in ${source.value} read`,
      );
    }
    let added = 0;
    let read = 0;
    for (const name of names.slice(0, MAX_FOLDER_ENTRIES)) {
      if (this.full) break;
      // Folders hold other things too (CRLs, keys, READMEs): skip what is not PEM quietly.
      const taken = this.readFile(join(source.value, name), source.origin, true);
      if (taken !== null) read++;
      added += taken ?? 0;
    }
    // A folder none of whose files held a certificate gave nothing: it is skipped, not forwarded.
    if (read === 0) this.notices.push(`${source.origin}: ${source.value} holds no PEM certificate`);
    else this.contributions.push({ origin: source.origin, path: source.value, added });
  }

  /**
   * Reads one file's certificates; answers how many were new, or null when it was skipped. A
   * file named twice is read once, and the second naming has the first one's outcome: a file
   * skipped once (a device, no certificate in it) is skipped again, never listed as forwarded.
   */
  private readFile(path: string, origin: string, quietIfNotPem: boolean): number | null {
    const real = this.files.realpath(path) ?? path;
    const earlier = this.visited.get(real);
    if (earlier !== undefined) {
      if (earlier.skipped === null) return 0;
      if (!quietIfNotPem) this.notices.push(`${origin}: ${path} ${earlier.skipped}`);
      return null;
    }
    const skipped = (why: string) => {
      this.visited.set(real, { skipped: why });
      if (!quietIfNotPem) this.notices.push(`${origin}: ${path} ${why}`);
      return null;
    };
    if (this.readBytes >= MAX_READ_BYTES) {
      // Not remembered: the bound is this run's, not the file's.
      this.notices.push(`${origin}: ${path} not read (over ${MAX_READ_BYTES / 1024 / 1024} MiB of CA files read)`);
      return null;
    }
    let file: ReturnType<HostFiles["read"]>;
    try {
      file = this.files.read(path, Math.min(MAX_FILE_BYTES, MAX_READ_BYTES - this.readBytes));
    } catch (error) {
      return skipped(`not read (${readFailure(error)})`);
    }
    if (!file) return skipped("does not exist");
    this.readBytes += file.bytes.length;
    const text = new TextDecoder("utf-8", { fatal: false }).decode(file.bytes);
    const { added, found } = this.take(text);
    const first = `the first ${file.bytes.length} bytes`;
    if (found === 0) return skipped(`holds no PEM certificate${file.truncated ? ` in ${first}` : ""}`);
    if (file.truncated) this.notices.push(`${origin}: only ${first} of ${path} read`);
    this.visited.set(real, { skipped: null });
    return added;
  }

  /** Adds the new certificates in a text; answers how many were new and how many were there. */
  private take(text: string): { added: number; found: number } {
    let added = 0;
    const found = pemCertificates(text);
    for (const pem of found) {
      if (this.seen.has(pem)) continue;
      if (this.pemBytes + pem.length > MAX_CA_PEM_BYTES) {
        this.full = true;
        break;
      }
      this.seen.add(pem);
      this.pems.push(pem);
      this.pemBytes += pem.length;
      added++;
    }
    return { added, found: found.length };
  }
}
