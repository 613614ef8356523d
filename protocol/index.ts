export * from "./ids.ts";
export * from "./clock.ts";
export * from "./errors.ts";
export * from "./events.ts";
export * from "./messages.ts";
export * from "./topics.ts";
export * from "./influx.ts";
