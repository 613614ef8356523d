import path from "node:path";
import type { Clock, Logger } from "../../../protocol/clock.ts";
import { createLoginLimiter } from "../auth/rate-limit.ts";
import type { InfluxAdapter } from "../influx/adapter.ts";
import type { LiveState } from "../live/state.ts";
import { createCenterConfigStore, migrations as centerConfigMigrations } from "../registry/center-config.ts";
import type { CenterConfigStore } from "../registry/center-config.ts";
import type { Migration, RegistryDb } from "../registry/db.ts";
import { createMemberImporter } from "../registry/member-import.ts";
import { createMembersRegistry, migrations as memberMigrations } from "../registry/members.ts";
import { createUsersRegistry, migrations as userMigrations } from "../registry/users.ts";
import type { ApiDeps } from "../routes/api.ts";
import type { LiveChanges } from "../routes/stream.ts";
import { createMemberCachePublisher } from "./publisher.ts";
import type { MemberCachePublisher } from "./publisher.ts";
import { loadOrCreateSigningKey } from "./signing-key.ts";

/** Tables of members, users/tokens and center config, applied with the centers' migrations on one registry file. */
export const membersApiMigrations: readonly Migration[] = [...memberMigrations, ...userMigrations, ...centerConfigMigrations];

export interface MembersApi {
  /** For buildApp({ api }). */
  api: Omit<ApiDeps, "live">;
  publisher: MemberCachePublisher;
  close(): Promise<void>;
}

/**
 * Everything behind the authenticated API and the member-cache sync, built on
 * an open registry (startServer owns the file). `publish` is the server's MQTT
 * client (QoS 1); an edge's "online" status triggers a full cache for its center.
 */
export async function setupMembersApi(o: {
  db: RegistryDb;
  registryPath: string;
  live: LiveState & LiveChanges;
  influx: Pick<InfluxAdapter, "query">;
  clock: Clock;
  logger: Logger;
  publish(topic: string, payload: string, opts: { retain: boolean }): Promise<void>;
  /** Centers in the broker's registry (enabled). */
  registeredCenters: () => string[];
  /** When set, caches go only to centers it accepts (the same rule the ingest applies to uplinks). */
  centerActive?: (centerId: string) => boolean;
  /** Share the center config store (the live view reads layouts and check-out times from it); made here if absent. */
  centerConfig?: CenterConfigStore;
  debounceMs?: number;
}): Promise<MembersApi> {
  const key = await loadOrCreateSigningKey(path.dirname(path.resolve(o.registryPath)));
  const members = createMembersRegistry(o.db, { clock: o.clock });
  const users = createUsersRegistry(o.db, { clock: o.clock });
  const centerConfig = o.centerConfig ?? createCenterConfigStore(o.db, { clock: o.clock });
  const importer = createMemberImporter(members, { clock: o.clock, logger: o.logger });
  const publisher = createMemberCachePublisher({
    members,
    privateKey: key.privateKey,
    publish: o.publish,
    centers: () => [
      ...new Set([...o.registeredCenters(), ...centerConfig.ids(), ...members.namedCenters(), ...o.live.centers().map((c) => c.centerId)]),
    ],
    clock: o.clock,
    logger: o.logger,
    ...(o.debounceMs !== undefined ? { debounceMs: o.debounceMs } : {}),
    ...(o.centerActive ? { isActive: o.centerActive } : {}),
  });
  const off = o.live.onChange((ch) => {
    if (ch.kind === "edge" && ch.status.state === "online") publisher.edgeOnline(ch.centerId);
  });
  return {
    api: {
      liveChanges: o.live,
      users,
      members,
      importer,
      centerConfig,
      influx: o.influx,
      memberCacheKeyPem: key.publicKeyPem,
      clock: o.clock,
      loginLimiter: createLoginLimiter(o.clock),
      knownCenters: o.registeredCenters,
    },
    publisher,
    async close() {
      off();
      await publisher.close();
    },
  };
}
