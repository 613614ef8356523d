import { z } from "zod";
import { DeviceId } from "../../../protocol/ids.ts";

/**
 * Config schemas for the serial card readers, door contacts and LD2410 seats,
 * kept here and only wired into edge/src/config.ts (which other services also
 * extend). Ports: use stable `/dev/serial/by-id/…` or `/dev/serial/by-path/…`
 * names (device-protocols.md §0.3); they are resolved at every open and the
 * real tty is logged (serial-device.ts).
 */
const path = z.string().min(1);
const baud = (d: number) => z.number().int().positive().default(d);
const readerBase = { id: DeviceId, door: DeviceId, direction: z.enum(["in", "out"]), path };

/** §0.3 rates: RDM6300 9600; the Wiegand bridge 115200 (ours, §2.4); wedge in serial (USB-CDC) mode 9600. */
export const ReaderConfig = z.discriminatedUnion("type", [
  z.object({ ...readerBase, type: z.literal("rdm6300"), baudRate: baud(9600) }).strict(),
  z.object({ ...readerBase, type: z.literal("wiegand"), baudRate: baud(115_200) }).strict(),
  z
    .object({
      ...readerBase,
      type: z.literal("wedge"),
      baudRate: baud(9600),
      /** 13.56 MHz readers type the UID big-endian or reversed, by model (§3.1). */
      byteOrder: z.enum(["msb", "lsb"]).default("msb"),
      /** `serial`: a reader in USB-CDC mode (path = tty); `evdev`: a HID reader (path = /dev/input/by-id/…-event-kbd). */
      input: z.enum(["serial", "evdev"]).default("serial"),
    })
    .strict(),
]);
export type ReaderConfig = z.infer<typeof ReaderConfig>;

/** Reed switch on the bridge (door/contact-line.ts): `C<input>:<0|1>` on change and every `repeatS`. */
export const DoorContactConfig = z
  .object({
    path,
    baudRate: baud(115_200),
    input: z.number().int().min(0).max(99).default(1),
    /** "NO"-type sensors report the inverse level (§8.2). */
    invert: z.boolean().default(false),
    /** The bridge's keep-alive period; no line for 3 × this → contact link down, door state unknown. */
    repeatS: z.number().min(0.1).max(3600).default(5),
    /** Grace after the unlock window in which an opening still counts as authorised. */
    graceMs: z.number().int().min(0, "must be between 0 and 60000 milliseconds").max(60_000, "must be between 0 and 60000 milliseconds").default(2000),
  })
  .strict();
export type DoorContactConfig = z.infer<typeof DoorContactConfig>;

/** Fields added to each door (spread into the door object schema). */
export const doorContactFields = {
  contact: DoorContactConfig.optional(),
  /** Open longer than this → held_open. */
  heldOpenS: z.number().int().min(1, "must be between 1 and 86400 seconds").max(86_400, "must be between 1 and 86400 seconds").default(60),
  /** Lock hardware + wiring, see edge/README.md "Fail-secure and fail-safe doors". */
  failMode: z.enum(["secure", "safe"]).default("secure"),
};

const seatBase = { id: DeviceId, zone: DeviceId };
/**
 * `convention`: esphome (default; `node` = node name, `object` = binary_sensor object id) or tasmota
 * (device-protocols.md §7.2; `node` = the device's %topic%, `object` = POWER / POWER<n> relay or a
 * SENSOR key such as Switch1; default POWER). edge/src/seats/tasmota.ts decodes it.
 */
export const MqttSeatConfig = z
  .object({
    ...seatBase,
    source: z.literal("mqtt"),
    convention: z.enum(["esphome", "tasmota"]).default("esphome"),
    node: DeviceId,
    object: DeviceId.default("seat_occupied"),
  })
  .strict();
export const RadarSeatConfig = z
  .object({
    ...seatBase,
    source: z.literal("ld2410"),
    path,
    baudRate: baud(256_000), // §6.1 factory default
    /** Report period the radar keeps (§6.1, ~50–100 ms [UNVERIFIED]); loss = 3 × this without a frame. */
    reportMs: z.number().int().min(10).max(60_000).default(100),
    /** Ignore targets farther than the desk (cm). */
    maxDistanceCm: z.number().int().min(1).max(2000).optional(),
  })
  .strict();
/** `source` defaults to "mqtt", so existing seat entries stay valid. */
export const SeatConfig = z.preprocess(
  (v) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return v;
    const o = v as { source?: unknown; convention?: unknown; object?: unknown };
    const withSource = o.source === undefined ? { ...o, source: "mqtt" } : o;
    // A Tasmota seat without `object` reads its relay (a seat's ESPHome default "seat_occupied" means nothing there).
    return o.convention === "tasmota" && o.object === undefined ? { ...withSource, object: "POWER" } : withSource;
  },
  z.discriminatedUnion("source", [MqttSeatConfig, RadarSeatConfig]),
);
export type SeatConfig = z.infer<typeof SeatConfig>;
export type RadarSeatConfig = z.infer<typeof RadarSeatConfig>;
export type MqttSeatConfig = z.infer<typeof MqttSeatConfig>;
