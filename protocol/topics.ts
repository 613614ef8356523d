import { isValidId } from "./ids.ts";

/**
 * Topic layout between edges and the central broker. Everything a center sends
 * is under `hazri/v1/c/<center>/up/...`, everything it receives under
 * `.../down/...`, so a per-center ACL is one prefix check for publish and one
 * for subscribe (issue 5). No topic level is ever user-supplied free text.
 */
export const TOPIC_ROOT = "hazri/v1/c";

export const UP = {
  events: "up/events",
  status: "up/status",
  time: "up/time",
} as const;
export const DOWN = {
  ack: "down/ack",
  time: "down/time",
  members: "down/members",
} as const;

export type UpKind = keyof typeof UP;
export type DownKind = keyof typeof DOWN;

function assertId(centerId: string): void {
  if (!isValidId(centerId)) throw new TypeError(`invalid center id for a topic: ${JSON.stringify(centerId)}`);
}

export const topics = {
  up(centerId: string, kind: UpKind): string {
    assertId(centerId);
    return `${TOPIC_ROOT}/${centerId}/${UP[kind]}`;
  },
  down(centerId: string, kind: DownKind): string {
    assertId(centerId);
    return `${TOPIC_ROOT}/${centerId}/${DOWN[kind]}`;
  },
  /** What the server subscribes to: every center's uplink of a kind (single-level wildcard, MQTT 3.1.1 §4.7.1.3). */
  allUp(kind: UpKind): string {
    return `${TOPIC_ROOT}/+/${UP[kind]}`;
  },
  /** Shared subscription (MQTT 5 §4.8.2; Mosquitto and EMQX also accept it from 3.1.1 clients). */
  sharedAllUp(group: string, kind: UpKind): string {
    return `$share/${group}/${TOPIC_ROOT}/+/${UP[kind]}`;
  },
  upPrefix(centerId: string): string {
    assertId(centerId);
    return `${TOPIC_ROOT}/${centerId}/up/`;
  },
  downPrefix(centerId: string): string {
    assertId(centerId);
    return `${TOPIC_ROOT}/${centerId}/down/`;
  },
};

export type ParsedTopic =
  | { dir: "up"; centerId: string; kind: UpKind }
  | { dir: "down"; centerId: string; kind: DownKind };

/** Parse a concrete topic; null when it is not one of ours. */
export function parseTopic(topic: string): ParsedTopic | null {
  const prefix = `${TOPIC_ROOT}/`;
  if (!topic.startsWith(prefix)) return null;
  const rest = topic.slice(prefix.length).split("/");
  if (rest.length !== 3) return null;
  const [centerId, dir, kind] = rest as [string, string, string];
  if (!isValidId(centerId)) return null;
  if (dir === "up" && kind in UP && UP[kind as UpKind] === `up/${kind}`) return { dir, centerId, kind: kind as UpKind };
  if (dir === "down" && kind in DOWN && DOWN[kind as DownKind] === `down/${kind}`)
    return { dir, centerId, kind: kind as DownKind };
  return null;
}

/**
 * Seat and door sensors on a center's LAN broker follow the ESPHome convention
 * (device-protocols.md §7.1/§7.4): `<node>/binary_sensor/<object>/state` with
 * ON/OFF, and `<node>/status` online/offline as birth + Last Will.
 */
export const lanTopics = {
  state(node: string, object: string): string {
    return `${node}/binary_sensor/${object}/state`;
  },
  status(node: string): string {
    return `${node}/status`;
  },
  /** Parse `<node>/binary_sensor/<object>/state` or `<node>/status`. */
  parse(topic: string): { node: string; kind: "state"; object: string } | { node: string; kind: "status" } | null {
    const p = topic.split("/");
    if (p.length === 2 && p[1] === "status" && isValidId(p[0] ?? "")) return { node: p[0] as string, kind: "status" };
    if (p.length === 4 && p[1] === "binary_sensor" && p[3] === "state" && isValidId(p[0] ?? "") && isValidId(p[2] ?? ""))
      return { node: p[0] as string, kind: "state", object: p[2] as string };
    return null;
  },
  /**
   * Tasmota sensors (device-protocols.md §7.2): `%prefix%/%topic%/<name>` with prefixes `tele`
   * (LWT, STATE, SENSOR), `stat` (POWER<n>, RESULT) and `cmnd`. `topic` is the device's %topic%.
   */
  tasmota: {
    lwt(topic: string): string {
      return `tele/${topic}/LWT`;
    },
    /** `POWER`, `POWER1`..: the relay state, ON / OFF. */
    power(topic: string, relay = "POWER"): string {
      return `stat/${topic}/${relay}`;
    },
    /** JSON telemetry every TelePeriod: STATE (carries POWER<n>), SENSOR (carries Switch<n>, sensors). */
    tele(topic: string, name: "STATE" | "SENSOR"): string {
      return `tele/${topic}/${name}`;
    },
    /** JSON command results (`{"POWER":"ON"}`, `{"Switch1":{"Action":"ON"}}`). */
    result(topic: string): string {
      return `stat/${topic}/RESULT`;
    },
    parse(t: string): { prefix: "tele" | "stat"; topic: string; name: string } | null {
      const p = t.split("/");
      if (p.length !== 3 || (p[0] !== "tele" && p[0] !== "stat") || !isValidId(p[1] ?? "") || !/^[A-Za-z][A-Za-z0-9]*$/.test(p[2] ?? "")) return null;
      return { prefix: p[0], topic: p[1] as string, name: p[2] as string };
    },
  },
};
