import { readFile } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { DASHBOARDS, renderDashboardFile } from "./panels.ts";

describe("Grafana provisioning files", () => {
  it("the committed dashboard JSON is what panels.ts generates (regenerate: node --import tsx dashboards/grafana/panels.ts)", async () => {
    for (const d of DASHBOARDS) {
      const onDisk = await readFile(new URL(`./dashboards/${d.file}`, import.meta.url), "utf8");
      expect(onDisk, d.file).toBe(renderDashboardFile(d));
    }
  });

  it("panel ids and dashboard uids are unique; every panel uses the provisioned datasource", () => {
    expect(new Set(DASHBOARDS.map((d) => d.uid)).size).toBe(DASHBOARDS.length);
    for (const d of DASHBOARDS) {
      const json = JSON.parse(renderDashboardFile(d)) as { panels: { id: number; datasource: { uid: string } }[] };
      expect(new Set(json.panels.map((p) => p.id)).size).toBe(json.panels.length);
      expect(json.panels.every((p) => p.datasource.uid === "hazri-influx")).toBe(true);
    }
  });

  it("datasource and dashboard provider YAML parse and agree on uid and path", async () => {
    const ds = parseYaml(await readFile(new URL("./provisioning/datasources/hazri.yaml", import.meta.url), "utf8")) as {
      datasources: { uid: string; type: string; jsonData: { dbName: string } }[];
    };
    expect(ds.datasources[0]).toMatchObject({ uid: "hazri-influx", type: "influxdb", jsonData: { dbName: "hazri" } });
    const prov = parseYaml(await readFile(new URL("./provisioning/dashboards/hazri.yaml", import.meta.url), "utf8")) as {
      providers: { type: string; options: { path: string } }[];
    };
    expect(prov.providers[0]).toMatchObject({ type: "file", options: { path: "/var/lib/grafana/dashboards/hazri" } });
  });
});
