import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { systemClock } from "../../../protocol/clock.ts";
import { isHazriError } from "../../../protocol/errors.ts";
import { openRegistry } from "../registry/db.ts";
import { createUsersRegistry, migrations, Role } from "../registry/users.ts";

export const USER_USAGE = `usage: hazri server user add <username> --role pseb_admin|center_staff|member [--centers a,b] [--member <id>]
                            (--config <file.yaml> | --registry <file.sqlite>)

The password is read from the environment variable HAZRI_PASSWORD; without it a random one is generated and printed ONCE.`;

/**
 * `hazri server user add …`: bootstraps the first admin (and any user) in the
 * registry without the API. Exit codes: 0 ok, 1 failure, 2 usage.
 */
export async function userMain(
  argv: string[],
  io: { out: (s: string) => void; err: (s: string) => void; env?: Record<string, string | undefined>; resolveRegistry: (configFile: string) => Promise<string> },
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        role: { type: "string" },
        centers: { type: "string" },
        member: { type: "string" },
        config: { type: "string" },
        registry: { type: "string" },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    io.err(`hazri server user: ${(e as Error).message}\n${USER_USAGE}\n`);
    return 2;
  }
  const [cmd, username, ...extra] = parsed.positionals;
  const role = Role.safeParse(parsed.values.role);
  if (cmd !== "add" || !username || extra.length > 0 || !role.success) {
    io.err(`${USER_USAGE}\n`);
    return 2;
  }
  let file = parsed.values.registry;
  try {
    if (file === undefined && parsed.values.config !== undefined) file = await io.resolveRegistry(parsed.values.config);
  } catch (e) {
    io.err(`hazri server user: ${(e as Error).message}\n`);
    return 2;
  }
  if (file === undefined) {
    io.err(`hazri server user: give --registry <file> or --config <file> with registry.path\n${USER_USAGE}\n`);
    return 2;
  }
  const env = io.env ?? process.env;
  const given = env.HAZRI_PASSWORD;
  const password = given && given.length > 0 ? given : randomBytes(18).toString("base64url");
  const db = openRegistry(file, migrations);
  try {
    const users = createUsersRegistry(db, { clock: systemClock });
    const u = await users.create({
      username,
      password,
      role: role.data,
      centers: (parsed.values.centers ?? "").split(",").map((s) => s.trim()).filter(Boolean),
      ...(parsed.values.member !== undefined ? { memberId: parsed.values.member } : {}),
    });
    io.out(`user ${u.username} created (role ${u.role}${u.centers.length ? `, centers ${u.centers.join(",")}` : ""}${u.memberId ? `, member ${u.memberId}` : ""})\n`);
    if (!given) io.out(`password: ${password}\n(shown once)\n`);
    return 0;
  } catch (e) {
    const msg = isHazriError(e) ? e.message : e instanceof Error && "issues" in e ? (e as { issues: { path: unknown[]; message: string }[] }).issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ") : (e as Error).message;
    io.err(`hazri server user: ${msg}\n`);
    return 1;
  } finally {
    db.close();
  }
}
