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
  const seen = new Set<string>();
  const pems: string[] = [];
  const contributions: CaCollection["contributions"] = [];
  const notices: string[] = [];
  const visitedPaths = new Set<string>();
  let readBytes = 0;
  let pemBytes = 0;
  let full = false;

  /** Adds the new certificates in a text; answers how many were new and how many were there. */
  const take = (text: string): { added: number; found: number } => {
    let added = 0;
    const found = pemCertificates(text);
    for (const pem of found) {
      if (seen.has(pem)) continue;
      if (pemBytes + pem.length > MAX_CA_PEM_BYTES) {
        full = true;
        break;
      }
      seen.add(pem);
      pems.push(pem);
      pemBytes += pem.length;
      added++;
    }
    return { added, found: found.length };
  };

  /** Reads one file's certificates; answers how many were new, or null when it was skipped. */
  const readFile = (path: string, origin: string, quietIfNotPem: boolean): number | null => {
    const real = files.realpath(path) ?? path;
    if (visitedPaths.has(real)) return 0;
    visitedPaths.add(real);
    if (readBytes >= MAX_READ_BYTES) {
      notices.push(`${origin}: ${path} not read (over ${MAX_READ_BYTES / 1024 / 1024} MiB of CA files read)`);
      return null;
    }
    let file: ReturnType<HostFiles["read"]>;
    try {
      file = files.read(path, Math.min(MAX_FILE_BYTES, MAX_READ_BYTES - readBytes));
    } catch (error) {
      if (!quietIfNotPem) notices.push(`${origin}: ${path} not read (${readFailure(error)})`);
      return null;
    }
    if (!file) {
      if (!quietIfNotPem) notices.push(`${origin}: ${path} does not exist`);
      return null;
    }
    readBytes += file.bytes.length;
    if (file.truncated) notices.push(`${origin}: only the first ${file.bytes.length} bytes of ${path} read`);
    const text = new TextDecoder("utf-8", { fatal: false }).decode(file.bytes);
    const { added, found } = take(text);
    if (found === 0 && !quietIfNotPem) notices.push(`${origin}: ${path} holds no PEM certificate`);
    return added;
  };

  for (const source of sources) {
    if (full) break;
    if (source.kind === "pem") {
      const { added } = take(source.value);
      if (added) contributions.push({ origin: source.origin, path: null, added });
      continue;
    }
    if (source.kind === "file") {
      const added = readFile(source.value, source.origin, false);
      if (added !== null) contributions.push({ origin: source.origin, path: source.value, added });
      continue;
    }
    const names = files.list(source.value);
    if (!names) {
      notices.push(`${source.origin}: ${source.value} is not a folder`);
      continue;
    }
    if (names.length > MAX_FOLDER_ENTRIES) {
      notices.push(`${source.origin}: only the first ${MAX_FOLDER_ENTRIES} of ${names.length} files in ${source.value} read`);
    }
    let added = 0;
    for (const name of names.slice(0, MAX_FOLDER_ENTRIES)) {
      if (full) break;
      // Folders hold other things too (CRLs, keys, READMEs): skip what is not PEM quietly.
      added += readFile(join(source.value, name), source.origin, true) ?? 0;
    }
    contributions.push({ origin: source.origin, path: source.value, added });
  }
  if (full) notices.push(`CA certificates beyond ${MAX_CA_PEM_BYTES / 1024 / 1024} MiB were left out`);
  return { pem: pems.length ? pems.join("") : null, count: pems.length, contributions, notices };
}
