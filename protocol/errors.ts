/**
 * One error class for the whole project, with stable codes grouped by layer
 * (style guide lesson 10). Never match on message text; match on `code`.
 * Every code is listed in docs/errors.md (a unit test keeps the two in step).
 */
export const ErrorCodes = {
  // Frame_*: bytes from a device that do not make a valid frame
  FRAME_CHECKSUM: "FRAME_CHECKSUM",
  FRAME_FORMAT: "FRAME_FORMAT",
  FRAME_TOO_LONG: "FRAME_TOO_LONG",
  // Device_*: a device link misbehaves
  DEVICE_TIMEOUT: "DEVICE_TIMEOUT",
  DEVICE_PORT_CLOSED: "DEVICE_PORT_CLOSED",
  DEVICE_OPEN_FAILED: "DEVICE_OPEN_FAILED",
  DEVICE_NAK: "DEVICE_NAK",
  DEVICE_STALE: "DEVICE_STALE",
  DEVICE_NOT_CONNECTED: "DEVICE_NOT_CONNECTED",
  DEVICE_PROTOCOL: "DEVICE_PROTOCOL",
  // Mqtt_*: a message that cannot be accepted
  MQTT_PAYLOAD_JSON: "MQTT_PAYLOAD_JSON",
  MQTT_PAYLOAD_SCHEMA: "MQTT_PAYLOAD_SCHEMA",
  MQTT_PAYLOAD_TOO_LARGE: "MQTT_PAYLOAD_TOO_LARGE",
  MQTT_TOPIC: "MQTT_TOPIC",
  MQTT_CENTER_MISMATCH: "MQTT_CENTER_MISMATCH",
  MQTT_NOT_AUTHORIZED: "MQTT_NOT_AUTHORIZED",
  MQTT_EVENT_TIME: "MQTT_EVENT_TIME",
  MQTT_UNKNOWN_CENTER: "MQTT_UNKNOWN_CENTER",
  // Ingest_*: the server could not store what it accepted
  INGEST_INFLUX_WRITE: "INGEST_INFLUX_WRITE",
  INGEST_BACKPRESSURE: "INGEST_BACKPRESSURE",
  INGEST_INFLUX_QUERY: "INGEST_INFLUX_QUERY",
  INGEST_INTERNAL: "INGEST_INTERNAL",
  // Outbox_*: the edge's durable store
  OUTBOX_CORRUPT: "OUTBOX_CORRUPT",
  OUTBOX_FULL: "OUTBOX_FULL",
  // Config_*: configuration files and options
  CONFIG_INVALID: "CONFIG_INVALID",
  CONFIG_NOT_FOUND: "CONFIG_NOT_FOUND",
  CONFIG_PARSE: "CONFIG_PARSE",
  // Api_*: HTTP API
  API_NOT_FOUND: "API_NOT_FOUND",
  API_BAD_REQUEST: "API_BAD_REQUEST",
  API_INTERNAL: "API_INTERNAL",
  API_UNAUTHORIZED: "API_UNAUTHORIZED",
  API_FORBIDDEN: "API_FORBIDDEN",
  API_RATE_LIMITED: "API_RATE_LIMITED",
  API_CONFLICT: "API_CONFLICT",
  API_METHOD_NOT_ALLOWED: "API_METHOD_NOT_ALLOWED",
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class HazriError extends Error {
  readonly code: ErrorCode;
  readonly context: unknown;
  constructor(code: ErrorCode, message: string, context?: unknown, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HazriError";
    this.code = code;
    this.context = context;
  }
}

export function isHazriError(e: unknown, code?: ErrorCode): e is HazriError {
  return e instanceof HazriError && (code === undefined || e.code === code);
}
