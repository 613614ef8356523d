/**
 * `integrationTest()`: one call gives a scenario a whole private Hazri network
 * (influxd, server + embedded broker, simulated centers on socat ptys, edges)
 * and tears it down by PID afterwards, whatever happens. A scenario file then
 * holds only the scenario. On failure the error carries the tails of the
 * server's and edges' logs, which is where the reason usually is.
 */
import { it } from "vitest";
import { silentLogger } from "../../protocol/clock.ts";
import { startNetwork, type Network, type NetworkOptions } from "../../cli/network.ts";
import { makeTempDir, removeDir } from "./tmp.ts";

export type IntegrationOptions = Omit<NetworkOptions, "dir" | "logger"> & {
  /** vitest timeout for the whole scenario (default 120 s). */
  timeoutMs?: number;
  logger?: NetworkOptions["logger"];
};

export interface ScenarioContext {
  net: Network;
  /** The network's working folder (configs, logs, ptys, edge data). */
  dir: string;
}

function withLogs(err: unknown, net: Network): unknown {
  if (!(err instanceof Error)) return err;
  const tails = [`--- server ---\n${net.server.logTail()}`, ...net.centers.map((c) => `--- edge ${c.id} ---\n${c.edge.logTail()}`)]
    .filter((t) => !t.endsWith("---\n"))
    .join("\n");
  if (tails) err.message += `\n${tails}`;
  return err;
}

export function integrationTest(name: string, opts: IntegrationOptions, scenario: (ctx: ScenarioContext) => Promise<void>): void {
  const { timeoutMs = 120_000, logger = silentLogger, ...netOpts } = opts;
  it(
    name,
    async () => {
      const dir = await makeTempDir("hazri-it-");
      let net: Network | undefined;
      try {
        net = await startNetwork({ ...netOpts, dir, logger });
        await scenario({ net, dir });
      } catch (e) {
        throw net ? withLogs(e, net) : e;
      } finally {
        await net?.stop();
        await removeDir(dir);
      }
    },
    timeoutMs,
  );
}
