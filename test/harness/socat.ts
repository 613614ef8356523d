/** The socat pty pair lives with the simulator (firmware-sim ships it); re-exported for tests. */
export { startPtyPair, type PtyPair, type StartPtyPairOptions } from "../../firmware-sim/src/pty.ts";
