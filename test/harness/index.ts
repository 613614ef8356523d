/** Real-component test harness: private daemons on free ports, stopped by PID. No vitest imports. */
export { freePort } from "./ports.ts";
export { makeTempDir, removeDir, useDir } from "./tmp.ts";
export { waitFor, type WaitForOptions } from "./wait.ts";
export { spawnManaged, waitReady, startupError, type ManagedProcess, type SpawnManagedOptions, type ExitInfo } from "./process.ts";
export { startInfluxd, seriesRows, type InfluxInstance, type StartInfluxdOptions } from "./influxd.ts";
export { startMosquitto, type MosquittoInstance, type StartMosquittoOptions } from "./mosquitto.ts";
export { startNut, type NutInstance, type NutUpsSpec, type StartNutOptions } from "./nut.ts";
export { startPtyPair, type PtyPair, type StartPtyPairOptions } from "./socat.ts";
