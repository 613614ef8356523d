import { parseArgs } from "node:util";
import pino from "pino";
import { systemClock } from "../../protocol/clock.ts";
import type { Logger } from "../../protocol/clock.ts";
import { isHazriError } from "../../protocol/errors.ts";
import { applyOverrides, loadServerConfigFile, parseServerConfig } from "./config.ts";
import type { ConfigOverrides } from "./config.ts";
import { startServer } from "./server.ts";
import { CENTER_USAGE, centerMain } from "./registry/centers.ts";
import { USER_USAGE, userMain } from "./auth/user-cli.ts";

export const USAGE = `usage: hazri server [--config <file.yaml>] [--http-port <n>] [--mqtt-port <n>] [--influx-url <url>] [--influx-db <name>]

Without --config: embedded broker on 127.0.0.1, InfluxDB 1.x at --influx-url (database --influx-db, default "hazri").

${CENTER_USAGE}

${USER_USAGE}`;

const int = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`--${name} must be an integer, got ${JSON.stringify(v)}`);
  return n;
};

/** `hazri server …`: returns the exit code (0 after a signal-driven graceful stop, 2 usage/config, 1 runtime). */
export async function main(argv: string[], opts: { logger?: Logger; signal?: AbortSignal } = {}): Promise<number> {
  const registryIo = {
    out: (s: string) => void process.stdout.write(s),
    err: (s: string) => void process.stderr.write(s),
    async resolveRegistry(file: string) {
      const cfg = parseServerConfig(await loadServerConfigFile(file), file);
      if (!cfg.registry) throw new Error(`${file} has no registry.path`);
      return cfg.registry.path;
    },
  };
  if (argv[0] === "center") return centerMain(argv.slice(1), registryIo);
  if (argv[0] === "user") return userMain(argv.slice(1), registryIo);
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: "string" },
        "http-port": { type: "string" },
        "mqtt-port": { type: "string" },
        "influx-url": { type: "string" },
        "influx-db": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`hazri server: ${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const logger: Logger = opts.logger ?? (pino({ base: { app: "hazri-server" } }) as unknown as Logger);
  let config;
  try {
    const overrides: ConfigOverrides = {
      httpPort: int("http-port", values["http-port"] as string | undefined),
      mqttPort: int("mqtt-port", values["mqtt-port"] as string | undefined),
      influxUrl: values["influx-url"] as string | undefined,
      influxDb: values["influx-db"] as string | undefined,
    };
    for (const k of Object.keys(overrides) as (keyof ConfigOverrides)[]) if (overrides[k] === undefined) delete overrides[k];
    const raw =
      typeof values.config === "string"
        ? await loadServerConfigFile(values.config)
        : { broker: { embedded: {} }, influx: { kind: "v1", url: "http://127.0.0.1:8086", database: "hazri" } };
    config = parseServerConfig(applyOverrides(raw, overrides), typeof values.config === "string" ? values.config : "flags");
  } catch (e) {
    process.stderr.write(`hazri server: ${(e as Error).message}\n`);
    return 2;
  }
  let server;
  try {
    server = await startServer(config, { logger, clock: systemClock });
  } catch (e) {
    logger.error({ err: e, code: isHazriError(e) ? e.code : undefined }, "server failed to start");
    return 1;
  }
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      logger.info({ signal: sig }, "stopping");
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
      resolve();
    };
    const onTerm = () => stop("SIGTERM");
    const onInt = () => stop("SIGINT");
    process.on("SIGTERM", onTerm);
    process.on("SIGINT", onInt);
    opts.signal?.addEventListener("abort", () => stop("abort"), { once: true });
  });
  try {
    await server.close();
    return 0;
  } catch (e) {
    logger.error({ err: e }, "error during shutdown");
    return 1;
  }
}
