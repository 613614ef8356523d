import { MAX_PAYLOAD_BYTES } from "../../../protocol/messages.ts";
import { topics } from "../../../protocol/topics.ts";
import { isValidId } from "../../../protocol/ids.ts";

/**
 * Who a broker client is, decided once at CONNECT (authenticate) and used by
 * every publish/subscribe check. Pure functions, unit-tested on their own.
 *  - server: the Hazri server's own client (may read every uplink, write every downlink)
 *  - center: an edge, username = center id, password checked against the registry
 *  - anonymous: only in the explicitly insecure `auth: "none"` dev mode
 */
export type BrokerIdentity = { role: "server" } | { role: "center"; centerId: string } | { role: "anonymous"; clientId: string };

/** Our deepest topic is `hazri/v1/c/<center>/up/<kind>` (6 levels); 8 leaves room, blocks deep-topic abuse. */
export const MAX_TOPIC_LEVELS = 8;
/** Longest topic in bytes: root (10) + center id (64) + kind; 256 is generous and cheap to check. */
export const MAX_TOPIC_BYTES = 256;
/**
 * Largest MQTT packet remaining-length accepted on the wire: a payload of
 * MAX_PAYLOAD_BYTES plus topic (≤ 256 + 2 bytes), packet id (2) and slack.
 * Checked on the fixed header, before the packet body is buffered.
 */
export const MAX_PACKET_BYTES = MAX_PAYLOAD_BYTES + 1024;

function topicLimitReason(topic: string): string | null {
  if (topic.length === 0) return "empty topic";
  if (Buffer.byteLength(topic, "utf8") > MAX_TOPIC_BYTES) return `topic longer than ${MAX_TOPIC_BYTES} bytes`;
  if (topic.split("/").length > MAX_TOPIC_LEVELS) return `topic deeper than ${MAX_TOPIC_LEVELS} levels`;
  return null;
}

/** Why a publish is refused, or null when allowed. */
export function publishDenied(who: BrokerIdentity, topic: string, payloadBytes: number): string | null {
  const lim = topicLimitReason(topic);
  if (lim) return lim;
  if (payloadBytes > MAX_PAYLOAD_BYTES) return `payload ${payloadBytes} > ${MAX_PAYLOAD_BYTES} bytes`;
  // Wildcards are for filters only (MQTT 3.1.1 §4.7.1: "+" and "#" MUST NOT be used in a topic name).
  if (topic.includes("+") || topic.includes("#")) return "wildcard in a topic name";
  // $-topics are the broker's own (§4.7.2); clients must not forge them.
  if (topic.startsWith("$")) return "$-topics are reserved for the broker";
  if (who.role === "server") return null;
  if (who.role === "center") {
    return topic.startsWith(topics.upPrefix(who.centerId)) && topic.length > topics.upPrefix(who.centerId).length
      ? null
      : `center ${who.centerId} may publish only under ${topics.upPrefix(who.centerId)}`;
  }
  // Insecure dev mode keeps the spine's rule: an `edge-<id>` client may not write for another center.
  const m = /^hazri\/v1\/c\/([^/]+)\/up\//.exec(topic);
  const edge = who.clientId.startsWith("edge-") ? who.clientId.slice("edge-".length) : null;
  if (m && edge !== null && m[1] !== edge) return `edge ${edge} may not publish under center ${m[1]}`;
  return null;
}

/** Why a subscription is refused (→ SUBACK 0x80, MQTT 3.1.1 §3.9.3), or null when allowed. */
export function subscribeDenied(who: BrokerIdentity, filter: string): string | null {
  const lim = topicLimitReason(filter);
  if (lim) return lim;
  if (who.role === "server") return null;
  if (who.role === "anonymous") return filter.startsWith("$SYS") ? "$SYS is not for clients" : null;
  if (filter.includes("+") || filter.includes("#")) return "wildcards are not allowed for centers";
  if (filter.startsWith("$")) return "$-topics are not for centers";
  const own = topics.downPrefix(who.centerId);
  return filter.startsWith(own) && filter.length > own.length ? null : `center ${who.centerId} may subscribe only under ${own}`;
}

/** The client id a center must use: the edge's uplink connects as `edge-<center>` (edge/src/uplink). */
export function centerClientIdOk(centerId: string, clientId: string): boolean {
  return isValidId(centerId) && clientId === `edge-${centerId}`;
}

/**
 * Remaining-length guard (MQTT 3.1.1 §2.2.3): walks packet boundaries in the
 * byte stream and reports an oversize packet from its fixed header, so a
 * 256 MB PUBLISH is refused after 5 bytes instead of being buffered. Keeps its
 * own small state; never throws.
 */
export function createPacketSizeGuard(maxRemaining: number): (chunk: Uint8Array) => "ok" | "too_large" | "malformed" {
  let skip = 0; // body bytes still to pass of the current packet
  let header: number[] = []; // fixed header bytes collected so far (type byte + length bytes)
  return (chunk) => {
    let i = 0;
    while (i < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - i);
        skip -= n;
        i += n;
        continue;
      }
      header.push(chunk[i] as number);
      i++;
      if (header.length === 1) continue;
      const last = header[header.length - 1] as number;
      if (last & 0x80) {
        if (header.length >= 5) return "malformed"; // at most 4 length bytes
        continue;
      }
      let len = 0;
      for (let k = header.length - 1; k >= 1; k--) len = len * 128 + ((header[k] as number) & 0x7f);
      header = [];
      if (len > maxRemaining) return "too_large";
      skip = len;
    }
    return "ok";
  };
}
