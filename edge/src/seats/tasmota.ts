/**
 * Pure decoder for Tasmota sensor messages (device-protocols.md §7.2) on the
 * center's LAN broker, for one seat's `object`:
 *   tele/<topic>/LWT      Online | Offline (retained Last Will + birth) → the node's status
 *   stat/<topic>/POWER<n> ON | OFF                                   → the relay (object POWER, POWER1..)
 *   tele/<topic>/STATE    {"POWER":"ON",...} every TelePeriod          → the relay
 *   tele/<topic>/SENSOR   {"Switch1":"ON",...} every TelePeriod        → a switch input (object Switch1..)
 *   stat/<topic>/RESULT   {"POWER":"ON"} | {"Switch1":{"Action":"ON"}} → either (shape per SetOption, §7.2 [UNVERIFIED])
 * `POWER` and `POWER1` name the same relay (Tasmota uses the bare name on
 * single-relay devices). A message that is Tasmota's but not about this object
 * is `none` (ignored); a payload that cannot be read is `malformed`.
 */
export type TasmotaMessage =
  | { kind: "status"; online: boolean }
  | { kind: "state"; on: boolean }
  | { kind: "none" }
  | { kind: "malformed"; detail: string };

const relay = (name: string): string | null => {
  const m = /^POWER(\d*)$/.exec(name);
  return m ? (m[1] === "" || m[1] === "1" ? "1" : (m[1] as string)) : null;
};

function onOff(v: unknown): boolean | null {
  if (v === "ON") return true;
  if (v === "OFF") return false;
  // stat/RESULT of a detached switch: {"Switch1":{"Action":"ON"}}
  if (typeof v === "object" && v !== null && "Action" in v) return onOff((v as { Action: unknown }).Action);
  return null;
}

export function decodeTasmota(prefix: "tele" | "stat", name: string, payload: string, object: string): TasmotaMessage {
  const text = payload.trim();
  if (prefix === "tele" && name === "LWT") {
    if (text === "Online") return { kind: "status", online: true };
    if (text === "Offline") return { kind: "status", online: false };
    return { kind: "malformed", detail: `LWT payload ${JSON.stringify(text.slice(0, 32))} is not Online/Offline` };
  }
  const want = relay(object);
  if (prefix === "stat" && relay(name) !== null) {
    if (want === null || relay(name) !== want) return { kind: "none" };
    const on = onOff(text);
    return on === null ? { kind: "malformed", detail: `${name} payload ${JSON.stringify(text.slice(0, 32))} is not ON/OFF` } : { kind: "state", on };
  }
  const json = (prefix === "tele" && (name === "STATE" || name === "SENSOR")) || (prefix === "stat" && name === "RESULT");
  if (!json) return { kind: "none" };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { kind: "malformed", detail: `${name} is not JSON: ${JSON.stringify(text.slice(0, 32))}` };
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return { kind: "malformed", detail: `${name} is not a JSON object` };
  const key = Object.keys(doc).find((k) => (want !== null ? relay(k) === want : k === object));
  if (key === undefined) return { kind: "none" };
  const on = onOff((doc as Record<string, unknown>)[key]);
  return on === null ? { kind: "malformed", detail: `${name}.${key} is not ON/OFF` } : { kind: "state", on };
}
