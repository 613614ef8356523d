import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/** A fresh private directory under the OS temp dir, e.g. /tmp/hazri-influxd-Ab12Cd. */
export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `hazri-${prefix.replace(/[^A-Za-z0-9_.-]/g, "_")}-`));
}

/**
 * Use `dir` if given (the demo keeps data under `.hazri/demo/...`), else a temp dir.
 * Returns the directory and whether we created it as a temp dir (so callers know
 * whether removing it on stop is theirs to do).
 */
export async function useDir(dir: string | undefined, prefix: string): Promise<{ dir: string; temp: boolean }> {
  if (dir !== undefined) {
    await mkdir(dir, { recursive: true });
    return { dir: path.resolve(dir), temp: false };
  }
  return { dir: await makeTempDir(prefix), temp: true };
}

/** rm -rf, never throws (for teardown). */
export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true }).catch(() => undefined);
}
