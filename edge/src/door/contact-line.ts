/**
 * Door-contact line of the bridge (project convention, documented in
 * edge/README.md "Bridge line formats"; the Wiegand lines are §2.4). The same
 * Arduino/ESP32 bridge that reads D0/D1 reads a reed switch on a GPIO with the
 * internal pull-up (device-protocols.md §8.2: magnet present = contact closed =
 * LOW; door open = HIGH), debounces it 50–100 ms and sends
 *   C<input>:<level>\r\n      level 1 = door open, 0 = door closed
 * on every change AND every `repeat` seconds (default 5 s) with the current
 * level. The repeat is the keep-alive the edge's liveness check needs: a reed
 * switch is otherwise silent for hours. "NO"-type sensors invert the level;
 * set `invert: true` on the door's contact. Pure; never throws.
 */
export type ContactLineResult = { ok: true; input: number; open: boolean } | { ok: false; code: "FRAME_FORMAT"; detail: string };

export function decodeContactLine(line: string, opts: { invert?: boolean } = {}): ContactLineResult {
  const m = /^C(\d{1,2}):([01])$/.exec(line);
  if (!m) return { ok: false, code: "FRAME_FORMAT", detail: `not a contact line: ${JSON.stringify(line.slice(0, 40))}` };
  const level = m[2] === "1";
  return { ok: true, input: Number(m[1]), open: opts.invert ? !level : level };
}

export function encodeContactLine(input: number, open: boolean): string {
  return `C${input}:${open ? 1 : 0}`;
}
