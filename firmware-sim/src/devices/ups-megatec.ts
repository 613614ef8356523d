/**
 * A simulated Megatec Q1 UPS (device-protocols.md §4.1) on the device side of
 * a pty: answers `Q1`, `F` and `I`, echoes any other command (§4.1: "a command
 * the UPS cannot handle is echoed back"), and reads its state from a
 * SimPowerModel (mains cut → b7, low battery → b6, exhausted → output 0 V).
 */
import type { SerialPort } from "serialport";
import type { SimPowerModel } from "./ups-battery.ts";
import { ascii, encodeF, encodeI, encodeQ1, q1Text, type Q1Fields } from "./ups-wire.ts";
import { SimSerialResponder } from "./ups-responder.ts";

export interface SimMegatecUpsOptions {
  path: string;
  model: SimPowerModel;
  /** Unit type bit b3 (default true: standby / line-interactive, the common small-office UPS). */
  standby?: boolean;
  tempC?: number;
}

export class SimMegatecUps extends SimSerialResponder {
  readonly model: SimPowerModel;
  private readonly standby: boolean;
  private readonly tempC: number;
  /** Extra status bits a test can force: test in progress (b2), shutdown active (b1), UPS failed (b4). */
  flags = { testInProgress: false, shutdownActive: false, upsFailed: false, beeper: true };
  private lastFaultV: number | null = null;

  private constructor(port: SerialPort, opts: SimMegatecUpsOptions) {
    super(port, opts.path);
    this.model = opts.model;
    this.measured = opts.model;
    this.standby = opts.standby ?? true;
    this.tempC = opts.tempC ?? 31;
  }

  static async open(opts: SimMegatecUpsOptions): Promise<SimMegatecUps> {
    return new SimMegatecUps(await SimSerialResponder.openPort(opts.path), opts);
  }

  /** The Q1 fields for the model's current state. */
  q1Fields(): Q1Fields {
    const s = this.view(this.model);
    // NNN.N latches the last glitch/outage voltage until the next query (§4.1).
    const fault = this.lastFaultV ?? s.inputV;
    this.lastFaultV = null;
    if (!s.utility) this.lastFaultV = 0;
    return {
      inputV: s.inputV,
      inputFaultV: fault,
      outputV: s.outputV,
      loadPct: s.loadPct,
      inputHz: s.inputHz,
      batteryV: this.standby ? s.batteryV : s.batteryV / (6 * (s.batteryV > 30 ? 4 : 2)), // per cell on on-line units
      tempC: this.tempC,
      bits: [!s.utility, s.batteryLow, false, this.flags.upsFailed, this.standby, this.flags.testInProgress, this.flags.shutdownActive, this.flags.beeper],
    };
  }

  protected respond(line: Uint8Array): { command: string | null; reply: Uint8Array | null } {
    const cmd = String.fromCharCode(...line);
    if (cmd === "Q1") {
      if (!this.behavior.corrupt) return { command: cmd, reply: encodeQ1(this.q1Fields()) };
      // Same length, one field non-numeric: the edge must reject it (FRAME_FORMAT non_numeric).
      const t = q1Text(this.q1Fields());
      return { command: cmd, reply: ascii(`${t.slice(0, 13)}2x9.8${t.slice(18)}\r`) };
    }
    if (cmd === "F") return { command: cmd, reply: encodeF(230, 6, 24, 50) };
    if (cmd === "I") return { command: cmd, reply: encodeI("COWORK-SIM", "LI-1500", "V1.02") };
    // Action commands (T, TL, Q, S.., C, CT) get no reply in the original spec (§4.1).
    if (/^(T|TL|T\d\d|Q|S\.\d|S\d\d|S[.\d]+R\d{4}|C|CT)$/.test(cmd)) return { command: cmd, reply: null };
    return { command: cmd, reply: ascii(`${cmd}\r`) }; // unsupported → echo
  }
}
