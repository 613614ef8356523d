import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { HazriError } from "../../../protocol/errors.ts";
import { CardId, CenterId } from "../../../protocol/ids.ts";
import type { AccessMember } from "./decide.ts";
import { formatIssues } from "../config-issues.ts";

/**
 * Static member file: the bootstrap/offline source of members (reliability
 * matrix DA-1: local-first). When the server's signed member cache is
 * configured (`memberCache`), it replaces this list as soon as one verified
 * cache is held (member-cache.ts); the file stays the fallback before that.
 * Same fields as the server's `CacheMember` (protocol/member-cache.ts), so the
 * rules in decide.ts see one shape.
 */
export const Member = z
  .object({
    id: z.string().min(1).max(64),
    name: z.string().max(200).optional(),
    // Card ids are stored canonical (upper-case hex, §1.4); accept lower case in the file.
    cards: z.array(z.string().transform((s) => s.trim().toUpperCase()).pipe(CardId)).default([]),
    status: z.enum(["active", "suspended"]),
    validFrom: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, "expected YYYY-MM-DD")
      .optional(),
    validUntil: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}$/, "expected YYYY-MM-DD")
      .optional(),
    centers: z.union([z.array(CenterId), z.literal("all")]).optional(),
    schedule: z.enum(["day", "night", "24x7"]).optional(),
    staff: z.boolean().default(false),
  })
  .strict();
export type Member = z.infer<typeof Member>;

export const MemberFile = z.object({ members: z.array(Member) }).strict();

export interface MemberDirectory {
  lookupCard(cardId: string): AccessMember | undefined;
  size(): number;
}

export function createMemberDirectory(members: readonly AccessMember[]): MemberDirectory {
  const byCard = new Map<string, AccessMember>();
  for (const m of members) for (const c of m.cards) byCard.set(c.toUpperCase(), m);
  return {
    lookupCard: (cardId) => byCard.get(cardId.toUpperCase()),
    size: () => members.length,
  };
}

/** Load and validate a YAML (or JSON, which is YAML) member file; all problems at once. */
export async function loadMembers(file: string): Promise<MemberDirectory> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new HazriError("CONFIG_NOT_FOUND", `member list not found: ${file}`, { file }, { cause: e });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new HazriError("CONFIG_PARSE", `member list ${file}: ${(e as Error).message}`, { file }, { cause: e });
  }
  const r = MemberFile.safeParse(raw);
  if (!r.success) {
    const lines = formatIssues(r.error.issues);
    throw new HazriError("CONFIG_INVALID", `member list ${file} is invalid:\n${lines.join("\n")}`, { file, issues: lines });
  }
  return createMemberDirectory(r.data.members);
}
