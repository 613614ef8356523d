/**
 * A stand-in central for edge benchmarks, in its own process so that it does not share the
 * measuring process's event loop: embedded aedes (TCP_NODELAY) plus a client that acks every
 * event batch at once (what the server does after its InfluxDB write, minus the write), and answers
 * time requests.
 * Prints `{"port":N}` on stdout once listening; `{"acked":N}` on SIGTERM, then exits.
 */
import { Aedes } from "aedes";
import net from "node:net";
import mqtt from "mqtt";
import { toRanges } from "../protocol/messages.ts";
import { topics } from "../protocol/topics.ts";

const broker = await Aedes.createBroker();
const srv = net.createServer((s) => {
  s.setNoDelay(true);
  broker.handle(s);
});
await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
const port = (srv.address() as net.AddressInfo).port;
const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: "bench-central" });
(client.stream as net.Socket).setNoDelay?.(true);
let acked = 0;
await client.subscribeAsync([topics.allUp("events"), topics.allUp("time")], { qos: 1 });
client.on("message", (topic, payload) => {
  if (topic.endsWith("/time")) {
    // Answer time requests like the server (ingest.ts): an unsynced edge holds this boot's events
    // until the reply (uplink.timeSyncWaitMs), and that wait must not be in the figures.
    const t = JSON.parse(payload.toString()) as { centerId: string; edgeTime: number };
    client.publish(topics.down(t.centerId, "time"), JSON.stringify({ v: 1, centerId: t.centerId, edgeTime: t.edgeTime, serverTime: Date.now() }), { qos: 1 });
    return;
  }
  const b = JSON.parse(payload.toString()) as { centerId: string; events: { seq: number }[] };
  acked += b.events.length;
  const msg = { v: 1, centerId: b.centerId, acked: toRanges(b.events.map((e) => e.seq)), rejected: [], serverTime: Date.now() };
  client.publish(topics.down(b.centerId, "ack"), JSON.stringify(msg), { qos: 1 });
});
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.on("SIGTERM", () => {
  process.stdout.write(`${JSON.stringify({ acked })}\n`);
  process.exit(0);
});
