// What every way of building takes besides its context: the same tags, labels and
// switches reach the builder image's buildx and the Engine's POST /build.
export interface BuildSettings {
  /** at least one */
  tags: string[];
  labels: Record<string, string>;
  target?: string;
  platform?: string;
  noCache?: boolean;
  pull?: boolean;
  /** network for RUN steps; undefined = the engine's default */
  network?: string;
}
