/**
 * `hazri <command>`: one CLI for every role. Each command lives with its
 * component and exports `main(argv): Promise<number>` (the exit code).
 */
const COMMANDS: Record<string, { summary: string; load: () => Promise<{ main(argv: string[]): Promise<number> }> }> = {
  server: { summary: "run the central server (broker, ingest, API)", load: () => import("../server/src/cli.ts") },
  edge: { summary: "run a center's edge agent: hazri edge --config <file>", load: () => import("../edge/src/cli.ts") },
  sim: { summary: "simulate a center's devices on real ptys and MQTT", load: () => import("../firmware-sim/src/cli.ts") },
  report: { summary: "monthly SLA / occupancy report: hazri report --month YYYY-MM --format csv|json|pdf", load: () => import("./report.ts") },
  demo: { summary: "run the demo network (private InfluxDB, server, two simulated centers)", load: () => import("./demo.ts") },
};

export function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return ["usage: hazri <command> [options]", "", "commands:", ...lines, "", "hazri <command> --help for its options"].join("\n");
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === "help" || cmd === "--help" || cmd === "-h") {
    process.stdout.write(`${usage()}\n`);
    return cmd === undefined ? 2 : 0;
  }
  const entry = COMMANDS[cmd];
  if (!entry) {
    process.stderr.write(`hazri: unknown command ${JSON.stringify(cmd)}\n\n${usage()}\n`);
    return 2;
  }
  const mod = await entry.load();
  return mod.main(rest);
}
