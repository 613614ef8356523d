// Edge config (YAML; JSON is YAML) for a simulated center in the compose stack: the
// device fragment `hazri sim` wrote to sim-center.json (pty paths, seats, members
// file) plus the uplink to the central Mosquitto with this center's credentials.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

export function edgeConfig(fragment, env) {
  return {
    ...fragment,
    dataDir: env.HAZRI_EDGE_DATA ?? "/data/edge",
    uplink: {
      url: env.HAZRI_MQTT_URL ?? "mqtt://mosquitto:1883",
      username: fragment.center,
      password: env.HAZRI_MQTT_PASSWORD ?? "",
    },
    lan: { host: "127.0.0.1", port: Number(env.HAZRI_LAN_PORT ?? 18830) },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (!process.argv[2]) throw new Error("usage: node edge-config.mjs <sim-center.json>");
  const sim = JSON.parse(readFileSync(process.argv[2], "utf8"));
  process.stdout.write(`${JSON.stringify(edgeConfig(sim.edge, process.env), null, 2)}\n`);
}
