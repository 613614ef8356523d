/**
 * A pair of linked pseudo-terminals made by socat: the stand-in for a USB-serial
 * device in tests and in `hazri demo` (reliability-matrix.md §7 test bed, "RFID
 * readers" row). The edge agent opens `hostPath` as if it were /dev/ttyUSB0; the
 * simulator opens `devicePath` and writes the device's bytes.
 *
 *   killing socat            = unplugging the USB device (both ptys vanish; the
 *                              agent's open fd gets EIO/HUP, the link disappears)
 *   startPtyPair() again     = replugging (same link paths, new /dev/pts/N)
 *
 * This file must not import from test/ (firmware-sim ships without the harness).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { lstat, readlink, stat, unlink } from "node:fs/promises";
import path from "node:path";

export interface PtyPair {
  /** `${dir}/${name}`: the edge agent opens this. */
  hostPath: string;
  /** `${dir}/${name}-dev`: the simulator opens this. */
  devicePath: string;
  /** PID of the socat process. */
  pid: number;
  /** Resolves once socat has exited (for any reason, including stop()). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** socat's stderr so far (last ~16 KiB), for error messages and debugging. */
  stderr(): string;
  /** SIGTERM, SIGKILL after `graceMs` (default 2000), wait for exit, remove stale links. Idempotent. */
  stop(graceMs?: number): Promise<void>;
  /** Hard unplug: SIGKILL, wait for exit, remove the (now dangling) links. */
  kill9(): Promise<void>;
}

export interface StartPtyPairOptions {
  dir: string;
  name: string;
  /** How long to wait for both links (default 5000 ms). */
  timeoutMs?: number;
  /** socat binary (default "socat" from PATH). */
  socatPath?: string;
}

const STDERR_CAP = 16 * 1024;

/**
 * Safety net, and the only module-level state here: socat children still running
 * when this Node process exits are SIGKILLed, so a crashed test run or an aborted
 * demo does not leave ptys behind. Entries are removed on exit/stop.
 */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  if (!exitHookInstalled) {
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
}

async function isSymlink(p: string): Promise<boolean> {
  try {
    return (await lstat(p)).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Remove `p` if it is a symlink (a stale link from a socat killed with SIGKILL). */
async function removeLink(p: string): Promise<void> {
  if (await isSymlink(p)) {
    await unlink(p).catch(() => undefined);
  }
}

/** True when `p` is a symlink whose target (a /dev/pts/N) exists. */
async function linkLive(p: string): Promise<boolean> {
  if (!(await isSymlink(p))) return false;
  try {
    const target = path.resolve(path.dirname(p), await readlink(p));
    await stat(target);
    return true;
  } catch {
    return false;
  }
}

export async function startPtyPair(opts: StartPtyPairOptions): Promise<PtyPair> {
  const hostPath = path.join(opts.dir, opts.name);
  const devicePath = `${hostPath}-dev`;
  const timeoutMs = opts.timeoutMs ?? 5000;

  // Refuse to clobber a real file; a leftover symlink is ours to replace
  // (the caller owns these paths; a previous socat may have been SIGKILLed).
  for (const p of [hostPath, devicePath]) {
    try {
      const st = await lstat(p);
      if (!st.isSymbolicLink()) throw new Error(`startPtyPair: ${p} exists and is not a symlink`);
      await unlink(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }

  // raw,echo=0 on both ends: a serial device is a byte pipe, no line discipline,
  // no CR/LF translation, no echo back to the writer.
  const args = [
    "-d",
    "-d",
    `pty,raw,echo=0,link=${hostPath}`,
    `pty,raw,echo=0,link=${devicePath}`,
  ];
  const child = spawn(opts.socatPath ?? "socat", args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderrBuf = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderrBuf = (stderrBuf + chunk).slice(-STDERR_CAP);
  });

  let spawnError: Error | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("error", (err) => {
      spawnError = err;
      live.delete(child);
      resolve({ code: null, signal: null });
    });
    child.once("exit", (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });

  if (child.pid === undefined) {
    await exited;
    throw new Error(`startPtyPair(${opts.name}): could not spawn socat: ${spawnError?.message ?? "unknown error"}`);
  }
  const pid = child.pid;
  track(child);

  const killAndWait = async (graceMs: number): Promise<void> => {
    if (!hasExited) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => {
        if (!hasExited) child.kill("SIGKILL");
      }, graceMs);
      await exited;
      clearTimeout(timer);
    }
    await removeLink(hostPath);
    await removeLink(devicePath);
  };

  // Ready = socat logged its data loop (both ptys open) and both links resolve.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (hasExited || spawnError) {
      const r = await exited;
      await removeLink(hostPath);
      await removeLink(devicePath);
      throw new Error(
        `startPtyPair(${opts.name}): socat exited early (code ${r.code}, signal ${r.signal}` +
          `${spawnError ? `, ${spawnError.message}` : ""}); stderr:\n${stderrBuf}`,
      );
    }
    if (
      stderrBuf.includes("starting data transfer loop") &&
      (await linkLive(hostPath)) &&
      (await linkLive(devicePath))
    ) {
      break;
    }
    if (Date.now() > deadline) {
      await killAndWait(500);
      throw new Error(
        `startPtyPair(${opts.name}): links ${hostPath} / ${devicePath} not ready after ${timeoutMs} ms; socat stderr:\n${stderrBuf}`,
      );
    }
    await new Promise((r) => setTimeout(r, 10));
  }

  return {
    hostPath,
    devicePath,
    pid,
    exited,
    stderr: () => stderrBuf,
    stop: (graceMs = 2000) => killAndWait(graceMs),
    kill9: async () => {
      if (!hasExited) child.kill("SIGKILL");
      await exited;
      await removeLink(hostPath);
      await removeLink(devicePath);
    },
  };
}
