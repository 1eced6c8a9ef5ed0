#!/usr/bin/env bun
// aicage-util: runs agent version checks and local image builds through Docker,
// talking to the Engine API directly (no docker CLI, Node or npm needed on the host).
import { installSignalHandlers } from "./lib/shutdown.ts";

// First thing, before the rest loads (hence the dynamic imports below): a Ctrl-C or SIGTERM
// from the first millisecond ends the command with 130 or 143. A shell starts background
// jobs with SIGINT ignored; until a handler is installed such a process loses every Ctrl-C.
installSignalHandlers();

const [{ root }, { toolRevision, toolVersion }, { runCli }] = await Promise.all([
  import("./commands/root.ts"),
  import("./core/tool-info.ts"),
  import("./cli/run.ts"),
]);

await runCli(root, process.argv.slice(2), `aicage-util ${toolVersion} (${toolRevision})`);
