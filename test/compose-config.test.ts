/**
 * docker-compose.yml and what its containers run, checked without a Docker engine
 * (there is none on the project machines): Debian's `docker-compose config`
 * validates and resolves the file; the configs the Hazri entrypoint renders from
 * the compose environment pass the server's and the edge's own zod schemas; and
 * the Mosquitto ACL file of the stack is loaded into a real Mosquitto 2.0 to show
 * that a center can publish only under its own subtree.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { readFile } from "node:fs/promises";
import mqtt from "mqtt";
import { parse as parseYaml } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseServerConfig } from "../server/src/config.ts";
import { parseEdgeConfig } from "../edge/src/config.ts";
import { topics } from "../protocol/topics.ts";
import { makeTempDir, removeDir, startMosquitto, waitFor, type MosquittoInstance } from "./harness/index.ts";
// @ts-expect-error -- plain .mjs helper shipped into the image, no type declarations
import { edgeConfig } from "../docker/hazri/edge-config.mjs";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("..", import.meta.url));

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[] | { source?: string; target: string }[];
  depends_on?: Record<string, { condition: string }>;
}

let compose: { services: Record<string, ComposeService>; volumes: Record<string, unknown> };

beforeAll(async () => {
  // Debian ships docker-compose 1.29 (no engine needed for `config`).
  const { stdout } = await run("docker-compose", ["-f", path.join(ROOT, "docker-compose.yml"), "config"], { cwd: ROOT, env: { ...process.env, HAZRI_INFLUX_TOKEN: "" } });
  compose = parseYaml(stdout) as typeof compose;
});

describe("docker-compose.yml", () => {
  it("validates with docker-compose config and has the whole stack", () => {
    expect(Object.keys(compose.services).sort()).toEqual(["center-isb-01", "center-lhr-01", "grafana", "influxdb", "mosquitto", "server"]);
    expect(compose.services.influxdb?.image).toMatch(/^influxdb:2\./);
    expect(compose.services.influxdb?.environment).toMatchObject({ DOCKER_INFLUXDB_INIT_MODE: "setup", DOCKER_INFLUXDB_INIT_ORG: "hazri", DOCKER_INFLUXDB_INIT_BUCKET: "hazri" });
    expect(compose.services.server?.depends_on?.influxdb?.condition).toBe("service_healthy");
    for (const c of ["center-lhr-01", "center-isb-01"]) expect(compose.services[c]?.command).toEqual(["center"]);
  });

  it("an empty HAZRI_INFLUX_TOKEN falls back to the same demo token for InfluxDB, Grafana and the server", () => {
    const t = compose.services.influxdb?.environment?.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN;
    expect(t).toBeTruthy();
    expect(compose.services.grafana?.environment?.HAZRI_INFLUX_TOKEN).toBe(t);
    expect(compose.services.server?.environment?.HAZRI_INFLUX_TOKEN).toBe(t);
  });

  it("every bind-mounted file or folder exists in the repository", () => {
    const binds: string[] = [];
    for (const s of Object.values(compose.services))
      for (const v of s.volumes ?? []) {
        const src = typeof v === "string" ? v.split(":")[0] ?? "" : (v.source ?? "");
        if (src.startsWith("/")) binds.push(src);
      }
    expect(binds.length).toBeGreaterThanOrEqual(6);
    for (const b of binds) expect(existsSync(b), b).toBe(true);
    expect(existsSync(path.join(ROOT, "docker/hazri/Dockerfile"))).toBe(true);
  });

  it("the image can render PDF reports: chromium installed without recommends, playwright-core kept by npm ci --omit=dev", async () => {
    const dockerfile = await readFile(path.join(ROOT, "docker/hazri/Dockerfile"), "utf8");
    const apt = dockerfile.split("\n").find((l) => l.includes("apt-get install")) ?? "";
    expect(apt).toContain("--no-install-recommends");
    expect(apt.split(/\s+/)).toContain("chromium");
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    // What `npm ci --omit=dev` installs: playwright-core is a runtime dependency in package.json and the lockfile.
    const pkg = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8")) as Record<string, Record<string, string> | undefined>;
    expect(pkg.dependencies?.["playwright-core"]).toBeDefined();
    expect(pkg.devDependencies?.["playwright-core"]).toBeUndefined();
    const lock = JSON.parse(await readFile(path.join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { dev?: boolean; dependencies?: Record<string, string> }> };
    expect(lock.packages[""]?.dependencies?.["playwright-core"]).toBe(pkg.dependencies?.["playwright-core"]);
    expect(lock.packages["node_modules/playwright-core"]?.dev).toBeUndefined();
    // npm's own view of the production tree (the same resolution `npm ci --omit=dev` installs).
    const { stdout } = await run("npm", ["ls", "playwright-core", "--omit=dev", "--json"], { cwd: ROOT });
    expect((JSON.parse(stdout) as { dependencies?: Record<string, unknown> }).dependencies).toHaveProperty("playwright-core");
  });

  it("the shell scripts parse (bash -n)", async () => {
    for (const f of ["docker/hazri/entrypoint.sh", "docker/influxdb/init-dbrp.sh"]) await run("bash", ["-n", path.join(ROOT, f)]);
  });
});

describe("configs rendered for the containers", () => {
  it("the server's config, rendered from the compose environment, passes the server's schema", async () => {
    const env = compose.services.server?.environment ?? {};
    const dir = await makeTempDir("hazri-compose-");
    try {
      const { stdout } = await run("bash", [path.join(ROOT, "docker/hazri/entrypoint.sh"), "server"], {
        env: { PATH: process.env.PATH ?? "", ...env, HAZRI_RENDER_ONLY: "1", HAZRI_CONF_DIR: dir },
      });
      const cfg = parseServerConfig(parseYaml(stdout), "rendered server.yaml");
      expect(cfg.broker).toMatchObject({ url: "mqtt://mosquitto:1883", username: "hazri-server", sharedGroup: "hazri" });
      expect(cfg.influx).toMatchObject({ kind: "v2", url: "http://influxdb:8086", org: "hazri", bucket: "hazri" });
      expect(cfg.http.host).toBe("0.0.0.0");
      // PDF reports: the image's Debian chromium (docker/hazri/Dockerfile).
      expect(cfg.reports?.chromiumPath).toBe("/usr/bin/chromium");
    } finally {
      await removeDir(dir);
    }
  });

  it("a missing secret stops the entrypoint with exit 2 and says which", async () => {
    const err = await run("bash", [path.join(ROOT, "docker/hazri/entrypoint.sh"), "server"], {
      env: { PATH: process.env.PATH ?? "", HAZRI_RENDER_ONLY: "1", HAZRI_INFLUX_TOKEN: "t" },
    }).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toContain("HAZRI_MQTT_PASSWORD");
  });

  it("each center's edge config (sim device fragment + compose uplink) passes the edge's schema", () => {
    for (const name of ["center-lhr-01", "center-isb-01"]) {
      const env = compose.services[name]?.environment ?? {};
      const center = env.HAZRI_CENTER ?? "";
      // The fragment `hazri sim` writes to sim-center.json (firmware-sim/src/cli.ts edgeConfigFragment).
      const fragment = {
        center,
        members: "/data/sim/members.json",
        doors: [{ id: "main", relay: { path: "/data/sim/relay-main", channel: 1 } }],
        readers: [{ id: "main-in", type: "rdm6300", door: "main", direction: "in", path: "/data/sim/rfid-main-in" }],
        seats: [{ id: "s01", zone: "hot-desk", node: `${center}-s01`, object: "seat_occupied" }],
      };
      const cfg = parseEdgeConfig(edgeConfig(fragment, env), "/data", `${name} edge config`);
      expect(cfg.uplink).toMatchObject({ url: "mqtt://mosquitto:1883", username: center });
      expect(cfg.uplink.password).toBe(env.HAZRI_MQTT_PASSWORD);
    }
  });
});

describe("the stack's Mosquitto ACL (docker/mosquitto/acl) on a real Mosquitto", () => {
  let broker: MosquittoInstance;
  const pw = { "lhr-01": "lhr-secret", "isb-01": "isb-secret", "hazri-server": "server-secret" };
  beforeAll(async () => {
    broker = await startMosquitto({ users: pw, acl: await readFile(path.join(ROOT, "docker/mosquitto/acl"), "utf8") });
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it("a center's uplink reaches the server; its publish under another center's topic does not", async () => {
    const server = await mqtt.connectAsync(broker.url, { username: "hazri-server", password: pw["hazri-server"], protocolVersion: 5 });
    const lhr = await mqtt.connectAsync(broker.url, { username: "lhr-01", password: pw["lhr-01"], protocolVersion: 5 });
    try {
      const got: string[] = [];
      server.on("message", (t, p) => got.push(`${t} ${p.toString()}`));
      await server.subscribeAsync(topics.allUp("events"), { qos: 1 });
      // MQTT 5: Mosquitto refuses an unauthorised QoS 1 PUBLISH with a "Not authorized" PUBACK reason code.
      await expect(lhr.publishAsync(topics.up("isb-01", "events"), "forged", { qos: 1 })).rejects.toThrow(/authori/i);
      await lhr.publishAsync(topics.up("lhr-01", "events"), "own", { qos: 1 });
      await waitFor(() => (got.length >= 1 ? true : null), { timeoutMs: 5_000, what: "own uplink at the server" });
      expect(got).toEqual([`${topics.up("lhr-01", "events")} own`]);
    } finally {
      await lhr.endAsync();
      await server.endAsync();
    }
  });

  it("a center receives its own downlink, never another center's", async () => {
    const server = await mqtt.connectAsync(broker.url, { username: "hazri-server", password: pw["hazri-server"], protocolVersion: 5 });
    const isb = await mqtt.connectAsync(broker.url, { username: "isb-01", password: pw["isb-01"], protocolVersion: 5 });
    try {
      const got: string[] = [];
      isb.on("message", (t) => got.push(t));
      await isb.subscribeAsync([topics.down("isb-01", "ack"), topics.down("lhr-01", "ack")], { qos: 1 });
      await server.publishAsync(topics.down("lhr-01", "ack"), "{}", { qos: 1 });
      await server.publishAsync(topics.down("isb-01", "ack"), "{}", { qos: 1 });
      await waitFor(() => (got.includes(topics.down("isb-01", "ack")) ? true : null), { timeoutMs: 5_000, what: "own ack" });
      expect(got).toEqual([topics.down("isb-01", "ack")]); // in-order delivery: lhr's ack would have come first
    } finally {
      await isb.endAsync();
      await server.endAsync();
    }
  });
});
