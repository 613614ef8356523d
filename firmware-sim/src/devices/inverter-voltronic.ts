/**
 * A simulated Voltronic/Axpert PI30 hybrid inverter (device-protocols.md §4.2)
 * on the device side of a pty: answers QPIGS and QMOD with CRC-16/XMODEM
 * replies, `(NAK` for a command with a bad CRC or an unknown command (our
 * simulator's choice; [UNVERIFIED] on hardware, §4.2). Grid and battery come
 * from a SimPowerModel; PV is a fixed daytime figure.
 */
import type { SerialPort } from "serialport";
import type { SimPowerModel } from "./ups-battery.ts";
import { encodeReply, parseCommand, qpigsPayload, type QpigsFields } from "./inverter-wire.ts";
import { SimSerialResponder } from "./ups-responder.ts";

export interface SimVoltronicInverterOptions {
  path: string;
  model: SimPowerModel;
  /** PV input (default 0 W: night, or no panels). */
  pvW?: number;
}

export class SimVoltronicInverter extends SimSerialResponder {
  readonly model: SimPowerModel;
  pvW: number;

  private constructor(port: SerialPort, opts: SimVoltronicInverterOptions) {
    super(port, opts.path);
    this.model = opts.model;
    this.measured = opts.model;
    this.pvW = opts.pvW ?? 0;
  }

  static async open(opts: SimVoltronicInverterOptions): Promise<SimVoltronicInverter> {
    return new SimVoltronicInverter(await SimSerialResponder.openPort(opts.path), opts);
  }

  qpigsFields(): QpigsFields {
    const s = this.view(this.model);
    const outW = Math.round((s.loadPct / 100) * 3000);
    const dischargeA = s.discharging ? Math.round(outW / Math.max(1, s.batteryV)) : 0;
    const pvA = this.pvW > 0 ? Math.round(this.pvW / 85) : 0;
    return {
      gridV: s.inputV,
      gridHz: s.inputHz,
      outV: s.outputV,
      outHz: s.outputV > 0 ? 50 : 0,
      outVA: Math.round(outW * 1.1),
      outW,
      loadPct: s.loadPct,
      busV: s.outputOn ? 360 : 0,
      batteryV: s.batteryV,
      chargeA: s.charging ? 10 : 0,
      capacityPct: Math.round(s.chargePct),
      heatsinkC: 32,
      pvA,
      pvV: this.pvW > 0 ? 85 : 0,
      sccV: this.pvW > 0 ? s.batteryV : 0,
      dischargeA,
      status: `000${s.outputOn ? 1 : 0}0${s.charging || this.pvW > 0 ? 1 : 0}${this.pvW > 0 ? 1 : 0}${s.charging ? 1 : 0}`,
      pvW: this.pvW,
      status2: `0${s.outputOn ? 1 : 0}0`,
    };
  }

  protected respond(line: Uint8Array): { command: string | null; reply: Uint8Array | null } {
    const cmd = parseCommand(line);
    const corrupt = this.behavior.corrupt;
    if (cmd === "QPIGS") return { command: cmd, reply: encodeReply(qpigsPayload(this.qpigsFields()), corrupt) };
    if (cmd === "QMOD") {
      const s = this.view(this.model);
      return { command: cmd, reply: encodeReply(!s.outputOn ? "S" : s.utility ? "L" : "B", corrupt) };
    }
    return { command: cmd, reply: encodeReply("NAK", corrupt) };
  }
}
