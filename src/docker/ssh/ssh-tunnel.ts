// Reaches the engine behind an ssh:// endpoint. fetch (Bun's and Deno's) cannot speak
// HTTP over a child process's stdio, but both can over a unix socket. So we listen on
// a socket in a private temporary folder (0700) and bridge every connection to its own
// `ssh … -- docker system dial-stdio`, byte for byte: plain requests, streams and
// hijacked connections alike. The first ssh becomes the control master of a
// multiplexed connection (socket in the same folder), later ones open a session on it
// instead of paying a new handshake, and one session is kept started ahead for the next
// connection. close() ends every ssh and removes the folder; a folder a killed process left,
// the next run removes (tunnel-folder.ts).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { type Server, type Socket, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SshExit, type SshFailure, explainSshFailure } from "./ssh-failure.ts";
import { type SshTarget, sshArguments } from "./ssh-target.ts";
import { TUNNEL_FOLDER_PREFIX, socketFolderRoot, writeTunnelOwner } from "./tunnel-folder.ts";

export interface SshTunnelOptions {
  /** The ssh program and any leading arguments; default `ssh` from the PATH. */
  command?: string[];
  /** Where the private folder is made; default the system temp folder. */
  tempRoot?: string;
}

/** ssh's stderr kept per connection, to explain a failure (the end holds the reason). */
const STDERR_KEPT = 16 * 1024;
/** How often to look for the control socket while the first ssh logs in. */
const MASTER_POLL_MS = 20;
/** How long ssh may take to end after SIGTERM before it is killed. */
const TERM_GRACE_MS = 2000;
/** Tries at removing the socket folder, and the pause between them. */
const REMOVE_ATTEMPTS = 10;
const REMOVE_RETRY_MS = 20;

/** One ssh process running `docker system dial-stdio`, from start to exit. */
interface Session {
  child: ChildProcess;
  /** The end of its stderr, to explain a failure. */
  errorText: string;
  /** Set once ssh has ended (or could not start). */
  ended?: SshExit;
  /** Called once when it ends. */
  onEnd?: (exit: SshExit) => void;
}

export class SshTunnel {
  private folder?: string;
  private server?: Server;
  private listening?: Promise<string>;
  private readonly processes = new Set<ChildProcess>();
  private readonly sockets = new Set<Socket>();
  /** A session started before it is needed (see prepareSpare). */
  private spare?: Session;
  private watchingMaster = false;
  private failure?: SshFailure;
  private closed = false;

  constructor(
    readonly target: SshTarget,
    private readonly options: SshTunnelOptions = {},
  ) {}

  /** The local socket that leads to the engine; listens from the first call on. */
  socketPath(): Promise<string> {
    if (this.closed) return Promise.reject(new Error(`the ssh connection to ${this.target.host} was closed`));
    this.listening ??= this.listen().catch((error) => {
      this.listening = undefined;
      this.removeFolder();
      throw error;
    });
    return this.listening;
  }

  /** Why the last ssh ended without an answer; cleared by the next connection that answers. */
  lastFailure(): SshFailure | undefined {
    return this.failure;
  }

  /** Ends every ssh process (TERM, then KILL), stops listening, removes the folder. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.listening?.catch(() => undefined);
    this.stopListening();
    const running = [...this.processes];
    const ended = Promise.all(running.map(exited));
    signalAll(running, "SIGTERM");
    if (!(await within(ended, TERM_GRACE_MS))) {
      signalAll(running, "SIGKILL");
      await within(ended, TERM_GRACE_MS);
    }
    this.removeFolder();
  }

  /**
   * What close() does, without waiting: for a process "exit" handler. KILL, not TERM: an ssh
   * given time to end may still bind or unlink its control socket while the folder goes.
   */
  closeSync(): void {
    this.closed = true;
    this.stopListening();
    signalAll([...this.processes], "SIGKILL");
    this.removeFolder();
  }

  private async listen(): Promise<string> {
    // mkdtemp makes the folder 0700: only this user reaches the socket and the ssh master.
    this.folder = mkdtempSync(join(socketFolderRoot(this.options.tempRoot ?? tmpdir()), TUNNEL_FOLDER_PREFIX));
    // Who made it: should this process be killed, the next run removes it (tunnel-folder.ts).
    writeTunnelOwner(this.folder);
    const path = join(this.folder, "engine.sock");
    const server = createServer({ allowHalfOpen: true }, (socket) => this.bridge(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => {
        server.off("error", reject);
        resolve();
      });
    });
    // An idle tunnel must not keep the process alive; requests in flight do.
    server.unref();
    return path;
  }

  /** One HTTP connection = one ssh session running `docker system dial-stdio`. */
  private bridge(socket: Socket): void {
    if (this.closed || !this.folder) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    const session = this.spare ?? this.startSession();
    this.spare = undefined;
    this.watchForMaster(session);
    const stdin = session.child.stdin!;
    const stdout = session.child.stdout!;
    let answered = false;
    let clientGone = false;

    stdout.once("data", () => {
      answered = true;
      this.failure = undefined;
      this.prepareSpare();
    });
    stdout.pipe(socket, { end: false });
    // The engine finished answering. Without an answer, wait for ssh's exit code first:
    // the failure is recorded before the client sees the connection end.
    stdout.on("end", () => answered && socket.end());
    socket.pipe(stdin);
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clientGone = true;
      this.sockets.delete(socket);
      stdin.end();
      stdout.resume(); // drop what still comes, so ssh never blocks on a full pipe
    });
    const finish = (exit: SshExit) => {
      if (!answered && !clientGone) this.failure = explainSshFailure(exit, this.target);
      socket.end();
    };
    if (session.ended) finish(session.ended);
    else session.onEnd = finish;
    (socket as { unref?: () => void }).unref?.();
  }

  /**
   * With sharing, the control socket appears once the first ssh has logged in, well before
   * its session answers: the moment to start the spare session (see prepareSpare).
   */
  private watchForMaster(session: Session): void {
    if (!this.target.multiplex || this.watchingMaster) return;
    this.watchingMaster = true;
    const controlSocket = join(this.folder!, "mux");
    const timer = setInterval(() => {
      if (existsSync(controlSocket)) this.prepareSpare();
      if (this.spare || session.ended || this.closed) clearInterval(timer);
    }, MASTER_POLL_MS);
    timer.unref?.();
  }

  /**
   * Starts the session for the next HTTP connection ahead of time: opening one costs about
   * as much as a request (ssh's session set-up, the far side's shell and docker CLI), a
   * whole handshake without sharing. Called once logged in and after each first answer.
   */
  private prepareSpare(): void {
    if (this.closed || this.spare || !this.folder) return;
    this.spare = this.startSession();
  }

  private startSession(): Session {
    const [program, ...leading] = this.options.command ?? ["ssh"];
    const child = spawn(program!, [...leading, ...sshArguments(this.target, join(this.folder!, "mux"))], {
      stdio: ["pipe", "pipe", "pipe"],
      // A process group of its own: Ctrl-C at the terminal reaches us, not ssh, so the
      // engine stays reachable while the shutdown steps remove what was started.
      detached: true,
    });
    const session: Session = { child, errorText: "" };
    this.processes.add(child);
    const end = (exit: SshExit) => {
      if (session.ended) return;
      session.ended = exit;
      this.processes.delete(child);
      if (this.spare === session) this.spare = undefined;
      session.onEnd?.(exit);
    };
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => (session.errorText = (session.errorText + chunk).slice(-STDERR_KEPT)));
    child.stdin!.on("error", () => undefined); // ssh already gone: its exit says why
    child.on("error", (error) => end({ exitCode: null, stderr: session.errorText, spawnError: error.message }));
    child.on("close", (code) => end({ exitCode: code, stderr: session.errorText }));
    // An idle session must not keep the process alive; requests in flight do.
    for (const handle of [child, child.stdin, child.stdout, child.stderr] as Array<{ unref?: () => void } | null>)
      handle?.unref?.();
    return session;
  }

  private stopListening(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.server?.close();
  }

  private removeFolder(): void {
    const folder = this.folder;
    this.folder = undefined;
    if (!folder) return;
    // An ssh that is just ending can still add or drop its control socket (ENOTEMPTY):
    // try again for a moment. Synchronous on purpose: this also runs in an "exit" handler.
    for (let attempt = 1; ; attempt++) {
      try {
        rmSync(folder, { recursive: true, force: true });
        return;
      } catch (error) {
        if (attempt >= REMOVE_ATTEMPTS) throw error;
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, REMOVE_RETRY_MS);
      }
    }
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("close", () => resolve()));
}

/** Signals ssh's whole process group, so a ProxyCommand it started ends too. */
function signalAll(children: ChildProcess[], signal: NodeJS.Signals): void {
  for (const child of children) {
    if (!child.pid || child.exitCode !== null || child.signalCode !== null) continue;
    try {
      process.kill(-child.pid, signal);
    } catch {
      child.kill(signal);
    }
  }
}

async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
