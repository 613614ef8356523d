import type { FastifyInstance } from "fastify";
import { CenterId } from "../../../protocol/ids.ts";
import { HazriError } from "../../../protocol/errors.ts";
import type { LiveState } from "../live/state.ts";

/** `/api/centers` and `/api/centers/:id/live`: read-only views of the live state. */
export async function liveRoutes(app: FastifyInstance, opts: { live: LiveState }): Promise<void> {
  app.get("/api/centers", async () => ({ centers: opts.live.centers() }));
  app.get<{ Params: { id: string } }>("/api/centers/:id/live", async (req) => {
    const id = CenterId.safeParse(req.params.id);
    if (!id.success) throw new HazriError("API_BAD_REQUEST", `invalid center id: ${id.error.issues[0]?.message ?? "bad"}`);
    const c = opts.live.center(id.data);
    if (!c) throw new HazriError("API_NOT_FOUND", `no live data for center ${id.data}`);
    return c;
  });
}
