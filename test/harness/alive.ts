/** True if a process with this PID exists (signal 0 = existence check only). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Linux process state letter from /proc/<pid>/stat ("R", "S", "T" = stopped, "Z"...), or undefined. */
export async function procState(pid: number): Promise<string | undefined> {
  const { readFile } = await import("node:fs/promises");
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    // comm may contain spaces/parens: the state follows the LAST ") ".
    return stat.slice(stat.lastIndexOf(") ") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}
