/**
 * Process-local counters for /metrics (Prometheus text exposition format
 * 0.0.4). Plain object, injected; no registry singleton.
 */
export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000] as const;

export interface Metrics {
  /** Events written to InfluxDB and acked. */
  eventsIngested: number;
  /** Messages or events refused, by HazriError code. */
  rejected: Record<string, number>;
  writeBatches: number;
  writeFailures: number;
  acksPublished: number;
  ackPublishFailures: number;
  pendingEvents: number;
  /** Events received again while already written or pending (on-wire duplicates: acked, not re-written). */
  duplicates: number;
  writeLatency: { buckets: number[]; sumMs: number; count: number };
  mqttConnected: boolean;
}

export function createMetrics(): Metrics {
  return {
    eventsIngested: 0,
    rejected: {},
    writeBatches: 0,
    writeFailures: 0,
    acksPublished: 0,
    ackPublishFailures: 0,
    pendingEvents: 0,
    duplicates: 0,
    writeLatency: { buckets: LATENCY_BUCKETS_MS.map(() => 0), sumMs: 0, count: 0 },
    mqttConnected: false,
  };
}

export function countRejected(m: Metrics, code: string, n = 1): void {
  m.rejected[code] = (m.rejected[code] ?? 0) + n;
}

export function observeWriteLatency(m: Metrics, ms: number): void {
  const h = m.writeLatency;
  h.sumMs += ms;
  h.count++;
  LATENCY_BUCKETS_MS.forEach((le, i) => {
    if (ms <= le) h.buckets[i] = (h.buckets[i] ?? 0) + 1;
  });
}

const esc = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/** What the edges report (live/state.ts EdgeReport, structurally). */
export interface EdgeGaugeInput {
  centerId: string;
  online: boolean | null;
  outboxDepth: number | null;
  heartbeatTs: number | null;
}

/**
 * `edges`: the live state's per-center reports. Series per center are bounded
 * by the number of centers (hundreds to a few thousand), never by members.
 */
export function renderPrometheus(m: Metrics, edges: readonly EdgeGaugeInput[] = []): string {
  const out: string[] = [];
  const metric = (name: string, type: string, help: string, lines: string[]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
  };
  metric("hazri_ingest_events_total", "counter", "Events written to InfluxDB and acked.", [
    `hazri_ingest_events_total ${m.eventsIngested}`,
  ]);
  metric(
    "hazri_ingest_rejected_total",
    "counter",
    "Messages or events refused, by error code.",
    Object.keys(m.rejected)
      .sort()
      .map((code) => `hazri_ingest_rejected_total{code="${esc(code)}"} ${m.rejected[code]}`),
  );
  metric("hazri_ingest_write_batches_total", "counter", "InfluxDB writes confirmed.", [
    `hazri_ingest_write_batches_total ${m.writeBatches}`,
  ]);
  metric("hazri_ingest_write_failures_total", "counter", "InfluxDB writes that failed.", [
    `hazri_ingest_write_failures_total ${m.writeFailures}`,
  ]);
  metric("hazri_ingest_acks_published_total", "counter", "Ack messages published to edges.", [
    `hazri_ingest_acks_published_total ${m.acksPublished}`,
  ]);
  metric("hazri_ingest_duplicates_total", "counter", "On-wire duplicate events (acked again, not re-written).", [
    `hazri_ingest_duplicates_total ${m.duplicates}`,
  ]);
  metric("hazri_ingest_pending_events", "gauge", "Events accepted but not yet written (queued + in flight).", [
    `hazri_ingest_pending_events ${m.pendingEvents}`,
  ]);
  const h = m.writeLatency;
  const seconds = (ms: number) => String(ms / 1000);
  metric("hazri_ingest_write_latency_seconds", "histogram", "InfluxDB write latency.", [
    ...LATENCY_BUCKETS_MS.map((le, i) => `hazri_ingest_write_latency_seconds_bucket{le="${seconds(le)}"} ${h.buckets[i] ?? 0}`),
    `hazri_ingest_write_latency_seconds_bucket{le="+Inf"} ${h.count}`,
    `hazri_ingest_write_latency_seconds_sum ${seconds(h.sumMs)}`,
    `hazri_ingest_write_latency_seconds_count ${h.count}`,
  ]);
  metric("hazri_mqtt_connected", "gauge", "1 when the server's MQTT client is connected.", [
    `hazri_mqtt_connected ${m.mqttConnected ? 1 : 0}`,
  ]);
  metric("hazri_edges_online", "gauge", "Edges whose last status is online.", [
    `hazri_edges_online ${edges.filter((e) => e.online === true).length}`,
  ]);
  metric("hazri_edges_offline", "gauge", "Edges whose last status is offline (Last Will or clean stop).", [
    `hazri_edges_offline ${edges.filter((e) => e.online === false).length}`,
  ]);
  const hb = edges.filter((e) => e.outboxDepth !== null);
  metric(
    "hazri_edge_outbox_depth",
    "gauge",
    "Events in the edge's outbox (not yet acked), from its latest heartbeat.",
    hb.map((e) => `hazri_edge_outbox_depth{center="${esc(e.centerId)}"} ${e.outboxDepth}`),
  );
  metric("hazri_edge_outbox_depth_total", "gauge", "Sum of hazri_edge_outbox_depth over all centers.", [
    `hazri_edge_outbox_depth_total ${hb.reduce((n, e) => n + (e.outboxDepth ?? 0), 0)}`,
  ]);
  metric(
    "hazri_edge_last_heartbeat_timestamp_seconds",
    "gauge",
    "Event time of the edge's latest heartbeat (how fresh hazri_edge_outbox_depth is).",
    hb.map((e) => `hazri_edge_last_heartbeat_timestamp_seconds{center="${esc(e.centerId)}"} ${(e.heartbeatTs ?? 0) / 1000}`),
  );
  return `${out.join("\n")}\n`;
}
