/**
 * The real edge agent (`hazri edge` process, unchanged uplink config:
 * `uplink.username/password`) against `startServer` with a registry: center
 * credentials on the embedded broker over the TLS listener, with the
 * self-signed certificate trusted through NODE_EXTRA_CA_CERTS exactly as
 * docs/broker.md tells operators. A second edge with a wrong password never
 * gets anything stored and keeps running (retrying), without crashing.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger, systemClock } from "../protocol/clock.ts";
import { freePort, makeTempDir, removeDir, seriesRows, spawnManaged, startInfluxd, waitFor, type InfluxInstance, type ManagedProcess } from "./harness/index.ts";
import { startServer, type RunningServer } from "../server/src/server.ts";
import { openRegistry } from "../server/src/registry/db.ts";
import { createCenterStore, migrations } from "../server/src/registry/centers.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const DB = "hazri_edgecreds";

describe("real edge agent with center credentials over TLS", () => {
  let influx: InfluxInstance;
  let server: RunningServer | undefined;
  let dir: string;
  const agents: ManagedProcess[] = [];

  beforeAll(async () => {
    influx = await startInfluxd();
    dir = await makeTempDir("hazri-edgecreds");
  });
  afterAll(async () => {
    for (const a of agents) await a.stop("SIGTERM", 10_000).catch(() => {});
    await server?.close();
    await influx?.stop();
    if (dir) await removeDir(dir);
  });

  it("good password → heartbeats stored and acked; wrong password → nothing stored, agent alive", async () => {
    const registry = path.join(dir, "registry.sqlite");
    const db = openRegistry(registry, migrations);
    const store = createCenterStore(db, { scrypt: { N: 1024, r: 8, p: 1 } });
    const good = (await store.createCenter("cred-ok")).password;
    await store.createCenter("cred-bad");
    db.close();
    const cert = path.join(dir, "fullchain.pem");
    const key = path.join(dir, "privkey.pem");
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
      "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert,
    ], { stdio: "ignore" });
    server = await startServer(
      {
        http: { host: "127.0.0.1", port: 0 },
        broker: { embedded: { host: "127.0.0.1", port: 0, tls: { port: await freePort(), certFile: cert, keyFile: key } } },
        influx: { kind: "v1", url: influx.url, database: DB },
        ingest: { maxBatchDelayMs: 5 },
        registry: { path: registry },
      },
      { logger: silentLogger, clock: systemClock },
    );
    const tlsUrl = server.brokerTlsUrl as string;

    const startAgent = (center: string, password: string) => {
      const d = path.join(dir, center);
      execFileSync("mkdir", ["-p", d]);
      writeFileSync(path.join(d, "members.yaml"), "members: []\n");
      const cfg = path.join(d, "center.yaml");
      writeFileSync(
        cfg,
        `center: ${center}\ndataDir: ./data\nuplink: { url: "${tlsUrl}", username: ${center}, password: "${password}", heartbeatS: 1, resendAfterMs: 2000 }\nlan: { host: 127.0.0.1, port: 0 }\nmembers: ./members.yaml\n`,
      );
      return spawnManaged(process.execPath, ["--import", "tsx", path.join(ROOT, "edge/src/cli.ts"), "edge", "--config", cfg], {
        name: `edge-${center}`,
        cwd: ROOT,
        env: { ...process.env, NODE_EXTRA_CA_CERTS: cert },
      });
    };
    agents.push(await startAgent("cred-ok", good), await startAgent("cred-bad", "not-the-password"));
    const [ok, bad] = agents as [ManagedProcess, ManagedProcess];

    const count = async (center: string) =>
      Number(seriesRows(await influx.query(`SELECT count("seq") FROM "edge_heartbeat" WHERE "center" = '${center}'`, DB))[0]?.count ?? 0);
    await waitFor(async () => ((await count("cred-ok")) >= 3 ? true : null), {
      timeoutMs: 45_000,
      what: `3 heartbeats of cred-ok stored (log: ${ok.logTail(5)})`,
    });
    // The edge trims its outbox only on the server's ack: the live view shows it online via its retained status.
    await waitFor(async () => ((server?.live.center("cred-ok")?.edge?.online ?? false) ? true : null), { timeoutMs: 15_000, what: "cred-ok online" });
    expect(await count("cred-bad")).toBe(0);
    expect(server.live.center("cred-bad")).toBeNull();
    expect(bad.hasExited()).toBe(false);
    expect(ok.hasExited()).toBe(false);
  });
});
