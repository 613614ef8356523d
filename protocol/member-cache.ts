import { createPublicKey, sign as edSign, verify as edVerify } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { z } from "zod";
import { CardId, CenterId, MemberId } from "./ids.ts";
import { SCHEMA_VERSION } from "./events.ts";

/**
 * Member cache: server → edge, QoS 1, retained, topic `down/members`
 * (`topics.down(center, "members")`). The edge decides doors from it offline
 * (issue 3), so it is signed by the server (Ed25519) and the edge refuses a
 * message it cannot verify.
 *
 * Versions: `version` is the server's registry version (a global monotonic
 * counter, so it is monotonic per center too). A full cache (`full: true`)
 * replaces everything the edge has. A delta (`full: false`) carries
 * `baseVersion`: the edge applies it only when its current version equals
 * `baseVersion` (otherwise it waits for the full cache the server re-sends on
 * reconnect). In a delta, `members` are upserts (whole member, replacing the
 * edge's copy) and `removed` are member ids to forget (deleted, or no longer
 * allowed at this center).
 *
 * Size: every message stays under MAX_PAYLOAD_BYTES (messages.ts). A full cache
 * that does not fit is split into parts with the same `version`, each signed
 * on its own, `part: { index, count }` (index from 0); the edge installs the
 * version once it holds all `count` parts (members of the parts are disjoint).
 * Only a single-part message is published retained; a multi-part full cache is
 * re-published (not retained) whenever the edge comes online, and the newest
 * delta is the retained message (server/README.md, "Member cache to the edges").
 *
 * Canonical form (what is signed): the message without `signature`, serialized
 * as JSON with object keys sorted by UTF-16 code unit order (JS default sort)
 * at every depth, array order kept, no whitespace, `undefined` members
 * omitted. `signature` is the base64 Ed25519 signature of the UTF-8 bytes.
 */
export const MEMBER_CACHE_VERSION = SCHEMA_VERSION;

const PktDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "expected YYYY-MM-DD");

export const CacheMember = z
  .object({
    id: MemberId,
    cards: z.array(CardId).max(32),
    status: z.enum(["active", "suspended"]),
    /** Inclusive local (PKT) dates, like the edge's member file. */
    validFrom: PktDate.optional(),
    validUntil: PktDate.optional(),
    centers: z.union([z.array(CenterId).max(1000), z.literal("all")]).optional(),
    schedule: z.enum(["day", "night", "24x7"]).optional(),
    staff: z.boolean(),
  })
  .strict();
export type CacheMember = z.infer<typeof CacheMember>;

export const MemberCacheUnsigned = z
  .object({
    v: z.literal(MEMBER_CACHE_VERSION),
    centerId: CenterId,
    version: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    issuedAt: z.number().int().min(0),
    full: z.boolean(),
    baseVersion: z.number().int().min(0).optional(),
    part: z.object({ index: z.number().int().min(0), count: z.number().int().min(1) }).strict().optional(),
    members: z.array(CacheMember),
    removed: z.array(MemberId).optional(),
  })
  .strict()
  .refine((m) => m.full || m.baseVersion !== undefined, { message: "a delta needs baseVersion", path: ["baseVersion"] })
  .refine((m) => !m.part || m.part.index < m.part.count, { message: "part index out of range", path: ["part"] });
export type MemberCacheUnsigned = z.infer<typeof MemberCacheUnsigned>;

export const MemberCacheMessage = z
  .object({
    v: z.literal(MEMBER_CACHE_VERSION),
    centerId: CenterId,
    version: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    issuedAt: z.number().int().min(0),
    full: z.boolean(),
    baseVersion: z.number().int().min(0).optional(),
    part: z.object({ index: z.number().int().min(0), count: z.number().int().min(1) }).strict().optional(),
    members: z.array(CacheMember),
    removed: z.array(MemberId).optional(),
    signature: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/).max(200),
  })
  .strict();
export type MemberCacheMessage = z.infer<typeof MemberCacheMessage>;

/**
 * Canonical JSON (the form described above) of any JSON value. Exported so a
 * producer can serialize each member once and splice the strings into many
 * messages: the result of canonicalJson is valid JSON, and parsing it and
 * canonicalizing again gives the same bytes.
 */
export function canonicalJson(v: unknown): string {
  return canonical(v);
}

function canonical(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? "null" : canonical(x))).join(",")}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(",")}}`;
}

/** The exact bytes that are signed: canonical JSON of everything but `signature`. */
export function canonicalCachePayload(msg: MemberCacheUnsigned | MemberCacheMessage | Record<string, unknown>): Buffer {
  const { signature: _sig, ...rest } = msg as Record<string, unknown>;
  return Buffer.from(canonical(rest), "utf8");
}

/**
 * True only if `msg` has the cache schema and its signature verifies with the
 * given Ed25519 public key (PEM). Never throws: a malformed key or message is
 * simply "not verified", and the edge keeps its last good cache.
 */
export function verifyMemberCache(msg: unknown, publicKeyPem: string): boolean {
  const parsed = MemberCacheMessage.safeParse(msg);
  if (!parsed.success) return false;
  try {
    const key = createPublicKey(publicKeyPem);
    if (key.asymmetricKeyType !== "ed25519") return false;
    // Verify over the message as received (not the zod output), so a field the
    // schema would drop or default can never slip past the signature.
    const sig = Buffer.from(parsed.data.signature, "base64");
    // Base64 is malleable (unused low bits of the last character, padding):
    // only the one canonical encoding of the 64 signature bytes is accepted.
    if (sig.length !== 64 || sig.toString("base64") !== parsed.data.signature) return false;
    return edVerify(null, canonicalCachePayload(msg as Record<string, unknown>), key, sig);
  } catch {
    return false;
  }
}

/** Sign (server side): Ed25519 over canonicalCachePayload, base64. */
export function signMemberCache(msg: MemberCacheUnsigned, privateKey: KeyObject | string): MemberCacheMessage {
  const signature = edSign(null, canonicalCachePayload(msg), privateKey).toString("base64");
  return { ...msg, signature };
}
