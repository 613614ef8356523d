/**
 * Is anyone listening on the host side of a pty? A real RDM6300's UART bytes
 * are simply lost when no host has the port open; a pty instead buffers them
 * (measured here: writes block after ~40 KB) and would hand a late-starting
 * edge a burst of stale taps. So before a tap the simulator checks whether
 * some process other than socat (which keeps both slaves open) holds the host
 * /dev/pts/N, and if not, the tap is recorded as not delivered and nothing is
 * written. Linux /proc only; elsewhere it answers "listening".
 */
import { readdir, readlink, realpath } from "node:fs/promises";

export async function hostHasListener(hostPath: string, socatPid: number): Promise<boolean> {
  let target: string;
  try {
    target = await realpath(hostPath);
  } catch {
    return false; // link gone: unplugged
  }
  let pids: string[];
  try {
    pids = (await readdir("/proc")).filter((d) => /^\d+$/.test(d) && Number(d) !== socatPid);
  } catch {
    return true;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch {
      continue; // exited or not ours to read
    }
    for (const fd of fds) {
      try {
        if ((await readlink(`/proc/${pid}/fd/${fd}`)) === target) return true;
      } catch {
        /* fd closed meanwhile */
      }
    }
  }
  return false;
}

/**
 * hostHasListener with a short cache of POSITIVE answers only (a /proc scan
 * costs a few ms): a "no" is re-checked every time, so an edge that just
 * opened the port gets the very next tap.
 */
export function createListenerProbe(ttlMs = 500, now: () => number = () => performance.now()) {
  const cache = new Map<string, { at: number; value: boolean }>();
  return async (hostPath: string, socatPid: number): Promise<boolean> => {
    const hit = cache.get(hostPath);
    if (hit && now() - hit.at < ttlMs) return hit.value;
    const value = await hostHasListener(hostPath, socatPid);
    if (value) cache.set(hostPath, { at: now(), value });
    else cache.delete(hostPath);
    return value;
  };
}
