// What an endpoint is: where the engine is and how it was found, the value every connection,
// error and message reads. Finding it (DOCKER_HOST, contexts, the usual sockets) is endpoint.ts.
import type { SshTarget } from "./ssh/ssh-target.ts";

export interface DockerEndpoint {
  kind: "unix" | "tcp" | "ssh";
  /** unix: the socket path */
  socketPath?: string;
  /** tcp: http:// or https:// origin */
  origin?: string;
  tls?: { ca?: string; cert?: string; key?: string; verify: boolean };
  /** ssh: who and where to log in; the engine is reached through `docker system dial-stdio` there */
  ssh?: SshTarget;
  /** What to show the user: the socket path or the URL */
  display: string;
  /** How it was found, e.g. "DOCKER_HOST", "context colima", "default socket" */
  source: string;
  /** Found among the usual sockets: the others that exist, tried in order when this one refuses. */
  alternatives?: DockerEndpoint[];
}
