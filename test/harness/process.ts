/**
 * A child daemon (influxd, mosquitto, upsd, an edge agent...) that we started and
 * will stop by PID. Output goes to a log file (append), so a crashed test leaves
 * evidence behind and a chatty daemon never blocks on a full pipe.
 * No vitest imports: `hazri demo` uses this too.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, openSync, readSync, fstatSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { waitFor } from "./wait.ts";

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly pid: number;
  readonly name: string;
  /** Where stdout+stderr go (undefined: kept in memory, last 64 KiB). */
  readonly logFile: string | undefined;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /** True once the process has exited. */
  hasExited(): boolean;
  /** Send `signal` (default SIGTERM), SIGKILL after `graceMs` (default 5000), wait for exit. Idempotent. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
  /** SIGKILL and wait for exit (a crash / power cut). */
  kill9(): Promise<void>;
  /**
   * SIGSTOP: the process is frozen but its sockets stay open (a hung daemon).
   * The signal is sent at once; the promise resolves when every thread is in
   * state T (a multi-threaded Go daemon like influxd can answer one more request
   * between kill() returning and its last thread stopping; observed).
   */
  pause(): Promise<void>;
  /** SIGCONT; resolves when no thread is stopped any more. */
  resume(): Promise<void>;
  /** Last `n` lines of its output (default 40). */
  logTail(n?: number): string;
}

export interface SpawnManagedOptions {
  name: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  logFile?: string;
}

const MEM_LOG_CAP = 64 * 1024;

/**
 * Safety net, and the only module-level state here: if this Node process exits
 * (test worker finishing, demo aborted, uncaught error) while children are still
 * running, SIGKILL them so no daemon outlives the run and holds ports or data dirs.
 * A SIGKILLed parent cannot run this; children are not detached, so Ctrl-C on the
 * terminal reaches them through the process group anyway.
 */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const c of live) {
      try {
        c.kill("SIGKILL");
      } catch {
        /* already gone */
      }
    }
  });
}

/** Linux state letters of every thread of `pid` (from /proc/<pid>/task/<tid>/stat). */
async function threadStates(pid: number): Promise<string[]> {
  const tids = await readdir(`/proc/${pid}/task`);
  const states: string[] = [];
  for (const tid of tids) {
    try {
      const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, "utf8");
      // comm may contain spaces/parens: the state follows the LAST ") ".
      states.push(stat.slice(stat.lastIndexOf(") ") + 2).split(" ")[0] ?? "?");
    } catch {
      /* thread exited meanwhile */
    }
  }
  return states;
}

async function waitThreads(pid: number, ok: (states: string[]) => boolean, what: string, gone: () => boolean): Promise<void> {
  await waitFor(
    async () => {
      if (gone()) return true;
      const states = await threadStates(pid).catch(() => null);
      return states === null || ok(states); // null: the process is gone, nothing to wait for
    },
    { timeoutMs: 5000, intervalMs: 5, what: `pid ${pid}: ${what}` },
  );
}

function readTail(file: string, maxBytes: number): string {
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    const size = fstatSync(fd).size;
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf.toString("utf8");
  } catch {
    return "";
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function lastLines(text: string, n: number): string {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.slice(-n).join("\n");
}

export async function spawnManaged(cmd: string, args: readonly string[], opts: SpawnManagedOptions): Promise<ManagedProcess> {
  let memLog = "";
  let logFd: number | undefined;
  if (opts.logFile !== undefined) logFd = openSync(opts.logFile, "a");
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: logFd !== undefined ? ["ignore", logFd, logFd] : ["ignore", "pipe", "pipe"],
  });
  // The child has its own copy of the fd now.
  if (logFd !== undefined) closeSync(logFd);
  const onData = (chunk: Buffer): void => {
    memLog = (memLog + chunk.toString("utf8")).slice(-MEM_LOG_CAP);
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);

  let exitedFlag = false;
  let spawnError: Error | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once("error", (err) => {
      spawnError = err;
      exitedFlag = true;
      live.delete(child);
      resolve({ code: null, signal: null });
    });
    child.once("exit", (code, signal) => {
      exitedFlag = true;
      live.delete(child);
      resolve({ code, signal });
    });
  });

  if (child.pid === undefined) {
    await exited;
    throw new Error(`spawnManaged(${opts.name}): cannot spawn ${cmd}: ${spawnError?.message ?? "unknown error"}`);
  }
  const pid = child.pid;
  track(child);

  const logTail = (n = 40): string =>
    lastLines(opts.logFile !== undefined ? readTail(opts.logFile, 64 * 1024) : memLog, n);

  const signal = (sig: NodeJS.Signals): void => {
    if (exitedFlag) return;
    try {
      process.kill(pid, sig);
    } catch {
      /* raced with exit */
    }
  };

  return {
    pid,
    name: opts.name,
    logFile: opts.logFile,
    exited,
    hasExited: () => exitedFlag,
    async stop(sig: NodeJS.Signals = "SIGTERM", graceMs = 5000) {
      if (exitedFlag) return;
      signal(sig);
      // A paused (SIGSTOPped) process only acts on SIGTERM once continued.
      signal("SIGCONT");
      const timer = setTimeout(() => signal("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
    async kill9() {
      signal("SIGKILL");
      await exited;
    },
    async pause() {
      signal("SIGSTOP");
      await waitThreads(pid, (states) => states.every((st) => st === "T" || st === "t"), "all threads stopped", () => exitedFlag);
    },
    async resume() {
      signal("SIGCONT");
      await waitThreads(pid, (states) => !states.some((st) => st === "T"), "no thread stopped", () => exitedFlag);
    },
    logTail,
  };
}

/** Error for a daemon that did not come up: names it and includes its log tail. */
export function startupError(proc: ManagedProcess, what: string, cause?: unknown): Error {
  return new Error(`${proc.name} (pid ${proc.pid}) ${what}; log tail:\n${proc.logTail(30)}`, { cause });
}

/**
 * Wait until `ready()` is truthy, but fail at once (with the log tail) if the
 * process exits first, and with the log tail on timeout: a daemon that dies on a
 * bad config should not cost the whole deadline.
 */
export async function waitReady<T>(
  proc: ManagedProcess,
  ready: () => T | Promise<T>,
  opts: { timeoutMs: number; what: string; intervalMs?: number },
): Promise<NonNullable<T>> {
  const died = proc.exited.then((x) => {
    throw startupError(proc, `exited (code ${x.code}, signal ${x.signal}) before ${opts.what}`);
  });
  try {
    return await Promise.race([waitFor(ready, { ...opts, intervalMs: opts.intervalMs ?? 50 }), died]);
  } catch (e) {
    if (proc.hasExited()) throw e;
    throw startupError(proc, `not ready: ${(e as Error).message}`, e);
  } finally {
    died.catch(() => undefined);
  }
}
