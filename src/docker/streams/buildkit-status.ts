// BuildKit progress as the Engine streams it for `POST /build?version=2`: JSON lines with
// `"id":"moby.buildkit.trace"` whose `aux` is a base64 protobuf `moby.buildkit.v1.StatusResponse`
// (BuildKit api/services/control/control.proto). This module decodes those messages; turning
// them into build steps is the caller's business.
import { BinaryReader, WireType, base64Decode } from "@bufbuild/protobuf/wire";

/** The JSON-line `id` of BuildKit trace messages. */
export const BUILDKIT_TRACE_ID = "moby.buildkit.trace";

/** One node of the build graph, e.g. `[2/3] RUN apt-get update`. */
export interface BuildkitVertex {
  digest: string;
  inputs: string[];
  name: string;
  cached: boolean;
  started?: Date;
  completed?: Date;
  /** Set when the vertex failed. */
  error?: string;
}

/** Sub-progress of a vertex, such as a layer download or a context transfer. */
export interface BuildkitVertexStatus {
  id: string;
  vertex: string;
  name: string;
  current: number;
  total: number;
  timestamp?: Date;
  started?: Date;
  completed?: Date;
}

/** Output of a vertex; stream 1 is stdout, 2 is stderr. */
export interface BuildkitVertexLog {
  vertex: string;
  timestamp?: Date;
  stream: number;
  msg: Uint8Array;
}

export interface BuildkitVertexWarning {
  vertex: string;
  level: number;
  short: Uint8Array;
  detail: Uint8Array[];
  url: string;
}

/** A decoded `StatusResponse`. */
export interface BuildkitStatus {
  vertexes: BuildkitVertex[];
  statuses: BuildkitVertexStatus[];
  logs: BuildkitVertexLog[];
  warnings: BuildkitVertexWarning[];
}

/** Decodes the `aux` of a `moby.buildkit.trace` line (base64 text, or the bytes it encodes). */
export function decodeBuildkitStatus(aux: string | Uint8Array): BuildkitStatus {
  const bytes = typeof aux === "string" ? base64Decode(aux) : aux;
  const status: BuildkitStatus = { vertexes: [], statuses: [], logs: [], warnings: [] };
  readFields(bytes, (field, wire, reader) => {
    if (wire !== WireType.LengthDelimited) return false;
    switch (field) {
      case 1:
        status.vertexes.push(decodeVertex(reader.bytes()));
        return true;
      case 2:
        status.statuses.push(decodeVertexStatus(reader.bytes()));
        return true;
      case 3:
        status.logs.push(decodeVertexLog(reader.bytes()));
        return true;
      case 4:
        status.warnings.push(decodeVertexWarning(reader.bytes()));
        return true;
    }
    return false;
  });
  return status;
}

/**
 * Walks the fields of one message. `read` consumes a field it knows and returns true;
 * anything else (unknown numbers, or a wire type other than the one expected) is skipped,
 * so newer BuildKit versions with extra fields still decode.
 */
function readFields(bytes: Uint8Array, read: (field: number, wire: WireType, reader: BinaryReader) => boolean): void {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    if (!read(field, wire, reader)) reader.skip(wire, field);
  }
}

function decodeVertex(bytes: Uint8Array): BuildkitVertex {
  const vertex: BuildkitVertex = { digest: "", inputs: [], name: "", cached: false };
  readFields(bytes, (field, wire, reader) => {
    const text = wire === WireType.LengthDelimited;
    if (field === 1 && text) vertex.digest = reader.string();
    else if (field === 2 && text) vertex.inputs.push(reader.string());
    else if (field === 3 && text) vertex.name = reader.string();
    else if (field === 4 && wire === WireType.Varint) vertex.cached = reader.bool();
    else if (field === 5 && text) vertex.started = decodeTimestamp(reader.bytes());
    else if (field === 6 && text) vertex.completed = decodeTimestamp(reader.bytes());
    else if (field === 7 && text) {
      const error = reader.string();
      if (error) vertex.error = error;
    } else return false;
    return true;
  });
  return vertex;
}

function decodeVertexStatus(bytes: Uint8Array): BuildkitVertexStatus {
  const status: BuildkitVertexStatus = { id: "", vertex: "", name: "", current: 0, total: 0 };
  readFields(bytes, (field, wire, reader) => {
    const text = wire === WireType.LengthDelimited;
    if (field === 1 && text) status.id = reader.string();
    else if (field === 2 && text) status.vertex = reader.string();
    else if (field === 3 && text) status.name = reader.string();
    else if (field === 4 && wire === WireType.Varint) status.current = Number(reader.int64());
    else if (field === 5 && wire === WireType.Varint) status.total = Number(reader.int64());
    else if (field === 6 && text) status.timestamp = decodeTimestamp(reader.bytes());
    else if (field === 7 && text) status.started = decodeTimestamp(reader.bytes());
    else if (field === 8 && text) status.completed = decodeTimestamp(reader.bytes());
    else return false;
    return true;
  });
  return status;
}

function decodeVertexLog(bytes: Uint8Array): BuildkitVertexLog {
  const log: BuildkitVertexLog = { vertex: "", stream: 0, msg: new Uint8Array(0) };
  readFields(bytes, (field, wire, reader) => {
    const text = wire === WireType.LengthDelimited;
    if (field === 1 && text) log.vertex = reader.string();
    else if (field === 2 && text) log.timestamp = decodeTimestamp(reader.bytes());
    else if (field === 3 && wire === WireType.Varint) log.stream = Number(reader.int64());
    // A copy, so the caller may keep the message after the base64 buffer is gone.
    else if (field === 4 && text) log.msg = reader.bytes().slice();
    else return false;
    return true;
  });
  return log;
}

function decodeVertexWarning(bytes: Uint8Array): BuildkitVertexWarning {
  const warning: BuildkitVertexWarning = {
    vertex: "",
    level: 0,
    short: new Uint8Array(0),
    detail: [],
    url: "",
  };
  readFields(bytes, (field, wire, reader) => {
    const text = wire === WireType.LengthDelimited;
    if (field === 1 && text) warning.vertex = reader.string();
    else if (field === 2 && wire === WireType.Varint) warning.level = Number(reader.int64());
    else if (field === 3 && text) warning.short = reader.bytes().slice();
    else if (field === 4 && text) warning.detail.push(reader.bytes().slice());
    else if (field === 5 && text) warning.url = reader.string();
    else return false;
    return true;
  });
  return warning;
}

/** `google.protobuf.Timestamp { int64 seconds = 1; int32 nanos = 2; }` */
function decodeTimestamp(bytes: Uint8Array): Date {
  let seconds = 0;
  let nanos = 0;
  readFields(bytes, (field, wire, reader) => {
    if (wire !== WireType.Varint) return false;
    if (field === 1) seconds = Number(reader.int64());
    else if (field === 2) nanos = reader.int32();
    else return false;
    return true;
  });
  return new Date(seconds * 1000 + Math.floor(nanos / 1e6));
}
