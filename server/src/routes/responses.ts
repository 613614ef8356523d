import { z } from "zod";
import { DoorEvent, HazriEvent, PowerEvent, PowerSource, SeatEvent, UpsMetrics } from "../../../protocol/events.ts";
import { EVENT_TYPES } from "./influxql.ts";
import { CenterConfig } from "../registry/center-config.ts";
import type { CenterLive, CenterSummary } from "../live/state.ts";
import type { Member } from "../registry/members.ts";

/**
 * Response schemas of the main routes, for the OpenAPI document only (the
 * handlers are not validated against them at run time: that would cost on
 * every live view). They are kept honest by tests that parse real responses
 * with them (strict objects: an added field fails) and by the compile-time
 * checks at the bottom (the TypeScript types and the schemas must agree).
 */

const Ms = z.number().int().describe("epoch milliseconds");

export const PersonInSchema = z.object({ memberId: z.string(), cardId: z.string(), since: Ms, door: z.string() }).strict();
export const SeatLiveSchema = z.object({ zone: z.string(), state: SeatEvent.shape.state, since: Ms }).strict();
export const ZoneLiveSchema = z
  .object({ name: z.string().nullable(), occupied: z.number().int().min(0), total: z.number().int().min(0) })
  .strict();
export const DoorLiveSchema = z
  .object({
    state: DoorEvent.shape.state.describe("the contact's state; a door without a contact sensor: the lock's"),
    since: Ms,
    lock: z.object({ state: z.enum(["locked", "unlocked"]), since: Ms }).strict().nullable(),
  })
  .strict();
export const PowerLiveSchema = z
  .object({ source: PowerSource, link: PowerEvent.shape.link, ups: UpsMetrics.nullable(), since: Ms })
  .strict();
export const EdgeLiveSchema = z.object({ online: z.boolean(), bootId: z.string(), lastSeen: Ms }).strict();

export const CenterLiveSchema = z
  .object({
    centerId: z.string(),
    peopleIn: z.array(PersonInSchema),
    peopleInCount: z.number().int().min(0),
    seats: z.record(z.string(), SeatLiveSchema),
    seatsOccupied: z.number().int().min(0),
    seatsTotal: z.number().int().min(0),
    zones: z.record(z.string(), ZoneLiveSchema),
    doors: z.record(z.string(), DoorLiveSchema),
    power: PowerLiveSchema.nullable(),
    edge: EdgeLiveSchema.nullable(),
    lastEvents: z.array(HazriEvent).describe("newest first, at most 50"),
  })
  .strict();

export const CenterSummarySchema = z
  .object({
    centerId: z.string(),
    peopleInCount: z.number().int().min(0),
    seatsOccupied: z.number().int().min(0),
    seatsTotal: z.number().int().min(0),
    doorsOpen: z.number().int().min(0),
    powerSource: PowerSource.nullable(),
    edgeOnline: z.boolean().nullable().describe("null: never seen"),
    lastEventTs: Ms.nullable(),
  })
  .strict();
const NamedSummary = CenterSummarySchema.extend({ name: z.string().nullable() }).strict();

export const CentersListSchema = z.object({ centers: z.array(NamedSummary) }).strict();

export const NetworkLiveSchema = z
  .object({
    at: Ms,
    totals: z
      .object({
        centers: z.number().int(),
        peopleIn: z.number().int(),
        seatsOccupied: z.number().int(),
        seatsTotal: z.number().int(),
        doorsOpen: z.number().int(),
        edgesOnline: z.number().int(),
        edgesOffline: z.number().int(),
        edgesNeverSeen: z.number().int(),
        powerSources: z.record(z.string(), z.number().int()),
      })
      .strict(),
    centers: z.array(NamedSummary),
  })
  .strict();

export const CenterConfigResponseSchema = z
  .object({ centerId: z.string(), config: CenterConfig, updatedAt: Ms, updatedBy: z.string() })
  .strict();

/** One event as stored: the InfluxDB tags and fields of protocol/influx.ts as columns. */
export const EventRowSchema = z
  .object({
    type: z.enum(EVENT_TYPES as [string, ...string[]]),
    ts: Ms,
    centerId: z.string(),
    seq: z.number().int(),
    cursor: z.string().describe("pass as `cursor` for the next page"),
  })
  .catchall(z.union([z.string(), z.number(), z.boolean()]));

export const EventsPageSchema = z.object({ items: z.array(EventRowSchema), nextCursor: z.string().nullable() }).strict();

export const MemberSchema = z
  .object({
    id: z.string(),
    name: z.string().nullable(),
    status: z.enum(["active", "suspended"]),
    validFrom: z.string().nullable().describe("YYYY-MM-DD, PKT, inclusive"),
    validUntil: z.string().nullable().describe("YYYY-MM-DD, PKT, inclusive"),
    centers: z.union([z.array(z.string()), z.literal("all")]),
    schedule: z.enum(["day", "night", "24x7"]),
    staff: z.boolean(),
    cards: z.array(z.string()),
    revokedCards: z.array(z.string()),
    version: z.number().int(),
    updatedAt: Ms,
  })
  .strict();

export const MembersPageSchema = z.object({ members: z.array(MemberSchema), next: z.string().nullable() }).strict();

// Compile-time: the handlers' types and the documented schemas say the same thing.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const agree = <T extends true>(t: T) => t;
agree<Same<z.output<typeof MemberSchema>, Member>>(true);
agree<Same<z.output<typeof CenterSummarySchema>, CenterSummary>>(true);
agree<Same<Omit<z.output<typeof CenterLiveSchema>, "lastEvents">, Omit<CenterLive, "lastEvents">>>(true);
