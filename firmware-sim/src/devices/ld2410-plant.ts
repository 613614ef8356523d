/**
 * The LD2410 radar seats of a sim center (wired into center.ts): one radar on a
 * pty `radar-<seat>` per seat whose spec has `source: "ld2410"`. `setSeat`
 * on such a seat moves the person in front of the radar and writes a `radar`
 * ground-truth record; unplug/replug like every serial device.
 */
import type { PtyPair } from "../pty.ts";
import type { GroundTruth, TruthWriter } from "../ground-truth.ts";
import { SimRadar } from "./ld2410.ts";

export interface SimRadarEntry {
  hostPath: string;
  radar: SimRadar;
  pty: PtyPair;
  zone: string;
}

type Plug = <T>(name: string, open: (devicePath: string) => Promise<T>) => Promise<{ pty: PtyPair; dev: T }>;

export function createRadarPlant(o: { plug: Plug; groundTruth: GroundTruth; reportMs?: number }) {
  const radars: Record<string, SimRadarEntry> = {};
  const plugRadar = async (seat: string, zone: string): Promise<SimRadarEntry> => {
    const { pty, dev } = await o.plug(`radar-${seat}`, (p) => SimRadar.open({ path: p, ...(o.reportMs !== undefined ? { reportMs: o.reportMs } : {}) }));
    return { hostPath: pty.hostPath, radar: dev, pty, zone };
  };
  return {
    radars,
    async add(seat: string, zone: string): Promise<void> {
      radars[seat] = await plugRadar(seat, zone);
    },
    /** True when `seat` is a radar seat (and was set). */
    set(seat: string, present: boolean, truth: TruthWriter = o.groundTruth): boolean {
      const e = radars[seat];
      if (!e) return false;
      e.radar.setPresent(present);
      truth.write({ kind: "radar", seat, zone: e.zone, present });
      return true;
    },
    async unplug(seat: string): Promise<void> {
      const e = radars[seat];
      if (!e) return;
      await e.radar.close();
      await e.pty.kill9();
    },
    async replug(seat: string): Promise<void> {
      const e = radars[seat];
      if (!e) return;
      const present = e.radar.isPresent;
      Object.assign(e, await plugRadar(seat, e.zone));
      e.radar.setPresent(present);
    },
    async stop(): Promise<void> {
      for (const e of Object.values(radars)) {
        await e.radar.close().catch(() => undefined);
        await e.pty.stop().catch(() => undefined);
      }
    },
  };
}
export type RadarPlant = ReturnType<typeof createRadarPlant>;
