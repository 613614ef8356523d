/**
 * A private NUT server: one `dummy-ups` driver per UPS plus `upsd`, exactly as
 * device-protocols.md §5.6 (verified recipe), on a free loopback port with its
 * own NUT_CONFPATH/NUT_STATEPATH. `.dev` files -> dummy-once (re-read when the
 * mtime changes), `.seq` files -> dummy-loop (§5.5).
 */
import { execFile } from "node:child_process";
import { chown, chmod, mkdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { freePort } from "./ports.ts";
import { spawnManaged, waitReady, type ManagedProcess } from "./process.ts";
import { removeDir, useDir } from "./tmp.ts";

const execFileP = promisify(execFile);

export interface NutUpsSpec {
  /** Data file name in the config dir: `*.dev` (dummy-once) or `*.seq` (dummy-loop). */
  file: string;
  /** `var: value` lines (upsc output format); `.seq` may contain `TIMER <s>` lines. */
  content: string;
}

export interface StartNutOptions {
  upses: Record<string, NutUpsSpec>;
  dataDir?: string;
  port?: number;
  /** Seconds without driver updates before upsd answers DATA-STALE (default 15, as §5.6). */
  maxAge?: number;
  /** upsd.users account with SET rights (default harness / harness-secret). */
  user?: { username: string; password: string };
  startTimeoutMs?: number;
}

export interface NutInstance {
  readonly host: "127.0.0.1";
  readonly port: number;
  readonly upsNames: string[];
  readonly dir: string;
  readonly username: string;
  readonly password: string;
  /** The upsd process (pause it to freeze the whole server). */
  readonly upsd: ManagedProcess;
  /** One dummy-ups process per UPS: pause() > MAXAGE s -> `ERR DATA-STALE`; kill9() -> `ERR DRIVER-NOT-CONNECTED` (§5.3). */
  readonly drivers: Readonly<Record<string, ManagedProcess>>;
  /**
   * Rewrite a `.dev` file: `vars` are merged into the current variables (or replace
   * them all with `{ replace: true }`), then the mtime is bumped so dummy-ups sees a change.
   * Observed with NUT 2.8.0: a re-read only adds/overwrites variables; one removed
   * from the file keeps its last value until the driver restarts.
   */
  writeDev(name: string, vars: Record<string, string>, opts?: { replace?: boolean }): Promise<void>;
  /** Run the real `upsc` CLI. With a variable: its value. Without: all variables. Throws with upsc's error (e.g. "Error: Data stale"). */
  upsc(name: string): Promise<Record<string, string>>;
  upsc(name: string, variable: string): Promise<string>;
  stop(): Promise<void>;
}

/** uid/gid of the `nut` account, when we are root and must hand files to it (§5.6). */
async function nutOwner(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = await readFile("/etc/passwd", "utf8");
  const line = passwd.split("\n").find((l) => l.startsWith("nut:"));
  const [, , uid, gid] = line?.split(":") ?? [];
  if (uid === undefined || gid === undefined) throw new Error("startNut: running as root but there is no 'nut' user");
  return { uid: Number(uid), gid: Number(gid) };
}

function parseVars(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z0-9_.]+):\s?(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined) vars.set(m[1], m[2] ?? "");
  }
  return vars;
}

function checkName(name: string): void {
  // Section names end up in ups.conf and socket names; keep them boring.
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`startNut: bad UPS name ${JSON.stringify(name)}`);
}

export async function startNut(opts: StartNutOptions): Promise<NutInstance> {
  const names = Object.keys(opts.upses);
  if (names.length === 0) throw new Error("startNut: no UPS given");
  names.forEach(checkName);
  const { dir, temp } = await useDir(opts.dataDir, "nut");
  const etc = path.join(dir, "etc");
  const state = path.join(dir, "state");
  await mkdir(etc, { recursive: true, mode: 0o700 });
  await mkdir(state, { recursive: true, mode: 0o700 });
  const port = opts.port ?? (await freePort());
  const user = opts.user ?? { username: "harness", password: "harness-secret" };
  const timeoutMs = opts.startTimeoutMs ?? 20_000;

  const upsConf = names
    .map((n) => {
      const spec = opts.upses[n]!;
      return `[${n}]\n    driver = dummy-ups\n    port = ${path.basename(spec.file)}\n    desc = "harness ${n}"\n`;
    })
    .join("\n");
  const files: Record<string, string> = {
    "ups.conf": upsConf,
    "upsd.conf": `LISTEN 127.0.0.1 ${port}\nMAXAGE ${opts.maxAge ?? 15}\n`,
    "upsd.users": `[${user.username}]\n    password = ${user.password}\n    actions = SET\n    instcmds = ALL\n    upsmon primary\n`,
    "nut.conf": "MODE=standalone\n",
  };
  for (const n of names) files[path.basename(opts.upses[n]!.file)] = opts.upses[n]!.content;
  for (const [f, content] of Object.entries(files)) await writeFile(path.join(etc, f), content, { mode: 0o600 });

  // Files mode 600/700 owned by the run-time user; the state dir must be writable by it (§5.6).
  const owner = await nutOwner();
  if (owner) {
    for (const p of [dir, etc, state, ...Object.keys(files).map((f) => path.join(etc, f))]) {
      await chown(p, owner.uid, owner.gid);
    }
    await chmod(dir, 0o700);
  }
  const dropArgs = owner ? ["-u", "nut"] : [];
  const env = { ...process.env, NUT_CONFPATH: etc, NUT_STATEPATH: state, NUT_ALTPIDPATH: state };

  const started: ManagedProcess[] = [];
  const stopAll = async (): Promise<void> => {
    // upsd first, so clients see the server go, not a driver flap.
    for (const p of [...started].reverse()) await p.stop("SIGTERM", 5000);
  };

  const runUpsc = async (args: string[]): Promise<string> => {
    try {
      const { stdout } = await execFileP("upsc", args, { timeout: 10_000 });
      return stdout;
    } catch (e) {
      const err = e as { stderr?: string; stdout?: string; message: string };
      // upsc prints "Init SSL without certificate database" on stderr; the real error is the last line.
      const lines = (err.stderr ?? "").split("\n").filter((l) => l && !l.startsWith("Init SSL"));
      throw new Error(`upsc ${args.join(" ")}: ${lines.join("; ") || err.message}`, { cause: e });
    }
  };
  async function upsc(name: string): Promise<Record<string, string>>;
  async function upsc(name: string, variable: string): Promise<string>;
  async function upsc(name: string, variable?: string): Promise<string | Record<string, string>> {
    const target = `${name}@127.0.0.1:${port}`;
    if (variable !== undefined) return (await runUpsc([target, variable])).trim();
    return Object.fromEntries(parseVars(await runUpsc([target])));
  }

  try {
    const drivers: Record<string, ManagedProcess> = {};
    for (const n of names) {
      const p = await spawnManaged("/lib/nut/dummy-ups", ["-a", n, ...dropArgs, "-F"], {
        name: `dummy-ups[${n}]`,
        env,
        logFile: path.join(state, `drv-${n}.log`),
      });
      started.push(p);
      drivers[n] = p;
      // upsd connects to the driver's socket at start; start drivers first (§5.6).
      const sock = path.join(state, `dummy-ups-${n}`);
      await waitReady(p, () => stat(sock).then((s) => s.isSocket(), () => false), {
        timeoutMs,
        what: `driver socket ${sock}`,
      });
    }
    const upsd = await spawnManaged("/lib/nut/upsd", [...dropArgs, "-F"], {
      name: "upsd",
      env,
      logFile: path.join(state, "upsd.log"),
    });
    started.push(upsd);
    // ups.status reads WAIT for ~1-2 s after start: ready = every UPS has a real status.
    for (const n of names) {
      await waitReady(
        upsd,
        async () => {
          const s = await upsc(n, "ups.status");
          return s !== "" && s !== "WAIT";
        },
        { timeoutMs, what: `upsc ${n} ups.status other than WAIT`, intervalMs: 200 },
      );
    }

    let cleaned = false;
    return {
      host: "127.0.0.1",
      port,
      upsNames: names,
      dir,
      username: user.username,
      password: user.password,
      upsd,
      drivers,
      upsc,
      async writeDev(name, vars, wopts = {}) {
        const spec = opts.upses[name];
        if (spec === undefined) throw new Error(`writeDev: unknown UPS ${name}`);
        if (!spec.file.endsWith(".dev")) throw new Error(`writeDev: ${name} uses ${spec.file}; only .dev files are re-read on change`);
        const file = path.join(etc, path.basename(spec.file));
        const before = await stat(file);
        const merged = wopts.replace ? new Map<string, string>() : parseVars(await readFile(file, "utf8"));
        for (const [k, v] of Object.entries(vars)) merged.set(k, v);
        // In-place write keeps the nut ownership and 0600 mode (a rename would not).
        await writeFile(file, [...merged].map(([k, v]) => `${k}: ${v}\n`).join(""));
        // dummy-once re-reads only when the mtime changes, and compares whole seconds:
        // two writes in the same second would look unchanged. Move it forward >= 1 s.
        const sec = Math.max(Math.floor(Date.now() / 1000), Math.floor(before.mtimeMs / 1000) + 1);
        await utimes(file, sec, sec);
      },
      async stop() {
        await stopAll();
        if (temp && !cleaned && !process.env.HAZRI_KEEP_TMP) {
          cleaned = true;
          await removeDir(dir);
        }
      },
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
