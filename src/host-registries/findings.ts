// What reading the host's set-up found, gathered by the npm, pip and CA parts alike.
import type { CaSource } from "./ca-certificates.ts";

export interface SettingOrigin {
  /** e.g. "npm registry", "npm //mirror.example/:_authToken", "pip global.index-url" */
  name: string;
  /** a host file path or `$VARIABLE` */
  source: string;
}

export interface Findings {
  /** forwarded: names and sources only */
  shown: SettingOrigin[];
  /** credentials found and not forwarded */
  withheld: SettingOrigin[];
  /** things skipped and why, without values */
  notices: string[];
  /** CA files, folders and inline PEM the settings name */
  caSources: CaSource[];
  /** the values of the credentials forwarded (only with the opt-in), each item alone: to hide, never to print */
  credentialValues: string[];
}
