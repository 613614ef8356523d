/**
 * What every framer emits (style guide lesson 2): a complete frame, or a run of
 * bytes that could not start or complete one. Noise is data about the link, not
 * an exception, so it is reported, counted and logged at debug by the caller.
 */
export type Frame =
  | { kind: "frame"; bytes: Uint8Array }
  | { kind: "discarded"; bytes: Uint8Array; reason: DiscardReason };

export type DiscardReason = "noise" | "format" | "too_long";

/** A framer owns its buffer; `push` never throws and its buffer stays bounded. */
export interface Framer {
  push(chunk: Uint8Array): Frame[];
  /** Bytes currently buffered (a started, incomplete frame). */
  readonly buffered: number;
  reset(): void;
}

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new TypeError(`bad hex: ${hex}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}
