#!/usr/bin/env bun
// aicage-util: runs agent version checks and local image builds through Docker,
// talking to the Engine API directly (no docker CLI, Node or npm needed on the host).
import { beforeSignalExit, installSignalHandlers } from "./lib/shutdown.ts";
import { toolRevision, toolVersion } from "./core/tool-info.ts";

// First thing, before the rest loads (hence the dynamic imports below): a Ctrl-C or SIGTERM
// from the first millisecond ends the command with 130 or 143. A shell starts background
// jobs with SIGINT ignored; until a handler is installed such a process loses every Ctrl-C.
installSignalHandlers();

const argv = process.argv.slice(2);
// --json promises one object on stdout, an interrupted run too: the error object then, unless
// the command printed its answer. Registered now, so a signal during start-up is answered too.
// --progress json streams events, and ends with the same error object as its last line.
const jsonAnswer =
  argv.includes("--json") ||
  argv.includes("--progress=json") ||
  argv.some((arg, i) => arg === "--progress" && argv[i + 1] === "json");
if (jsonAnswer) beforeSignalExit(async (exitCode) => (await import("./cli/run.ts")).answerInterrupted(exitCode));
const versionLine = `aicage-util ${toolVersion} (${toolRevision})`;

if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-v")) {
  // Answered before the command tree, citty and the rest load, and through console.log:
  // Bun builds process.stdout (a Node stream) on first use, which alone costs about as much
  // as the rest of the start-up. Half the docker CLI's time instead of more (docs/performance.md).
  console.log(versionLine);
} else {
  const [{ root }, { runCli }] = await Promise.all([import("./commands/root/command.ts"), import("./cli/run.ts")]);
  await runCli(root, argv, versionLine);
}
