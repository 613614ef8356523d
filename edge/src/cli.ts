import pino from "pino";
import { parseArgs } from "node:util";
import { systemClock, type Logger } from "../../protocol/clock.ts";
import { isHazriError } from "../../protocol/errors.ts";
import { loadEdgeConfig } from "./config.ts";
import { createEdgeAgent } from "./agent.ts";

/**
 * `hazri edge --config <file>`. Exit codes: 0 = clean stop (SIGTERM/SIGINT),
 * 1 = runtime failure, 2 = bad config or usage (distinct, so a supervisor
 * does not restart-loop on a config mistake; style guide lesson 15).
 * Logs are pino JSON on stdout; config errors go to stderr, one per line.
 */
export async function main(argv: string[], io: { stderr?: (s: string) => void; stdout?: (s: string) => void; signal?: AbortSignal } = {}): Promise<number> {
  const err = io.stderr ?? ((s: string) => void process.stderr.write(s));
  const args = argv[0] === "edge" ? argv.slice(1) : argv;
  let configPath: string | undefined;
  let level = "info";
  try {
    const { values } = parseArgs({ args, options: { config: { type: "string", short: "c" }, "log-level": { type: "string" }, help: { type: "boolean", short: "h" } }, strict: true });
    if (values.help) {
      (io.stdout ?? ((t: string) => void process.stdout.write(t)))("usage: hazri edge --config <file> [--log-level debug]\n");
      return 0;
    }
    configPath = values.config;
    level = values["log-level"] ?? level;
  } catch (e) {
    err(`hazri edge: ${(e as Error).message}\nusage: hazri edge --config <file> [--log-level debug]\n`);
    return 2;
  }
  if (!configPath) {
    err("usage: hazri edge --config <file> [--log-level debug]\n");
    return 2;
  }
  let config;
  try {
    config = await loadEdgeConfig(configPath);
  } catch (e) {
    if (isHazriError(e)) {
      err(`hazri edge: ${e.code}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const logger = pino({ level, base: { app: "hazri-edge" } }) as unknown as Logger;
  let agent;
  try {
    agent = await createEdgeAgent(config, { logger, clock: systemClock });
  } catch (e) {
    if (isHazriError(e) && e.code.startsWith("CONFIG_")) {
      err(`hazri edge: ${e.code}: ${e.message}\n`);
      return 2;
    }
    logger.error({ err: e }, "cannot create edge agent");
    return 1;
  }
  try {
    await agent.start();
  } catch (e) {
    logger.error({ err: e }, "edge agent failed to start");
    await agent.stop().catch(() => {});
    return 1;
  }
  await new Promise<void>((resolve) => {
    const done = () => {
      process.off("SIGTERM", done);
      process.off("SIGINT", done);
      resolve();
    };
    process.on("SIGTERM", done);
    process.on("SIGINT", done);
    if (io.signal?.aborted) done();
    io.signal?.addEventListener("abort", done, { once: true });
  });
  logger.info({}, "signal received; stopping");
  await agent.stop();
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
