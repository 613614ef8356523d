import { SerialPort } from "serialport";
import { HazriError } from "../../../protocol/errors.ts";

/**
 * Open the device side of a pty pair the way the firmware's UART would be:
 * 9600 8N1 (device-protocols.md §0.3; a pty ignores the rate but we set what
 * the real part uses so a future real-serial run is the same code).
 */
export async function openDeviceSerial(path: string, baudRate = 9600): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port: SerialPort = new SerialPort(
      { path, baudRate, dataBits: 8, parity: "none", stopBits: 1 },
      (err) =>
        err
          ? reject(new HazriError("DEVICE_OPEN_FAILED", `simulator could not open ${path}: ${err.message}`, { path }, { cause: err }))
          : resolve(port),
    );
    // A write to a pty whose other side vanished (socat killed = unplug) fails
    // with EIO: the write callback gets the error, but the stream ALSO emits
    // 'error', which would crash the process without a listener.
    port.on("error", () => undefined);
  });
}

export async function closeDeviceSerial(port: SerialPort): Promise<void> {
  if (!port.isOpen) return;
  await new Promise<void>((resolve) => port.close(() => resolve()));
}

/**
 * Write and wait until the kernel has taken every byte (tcdrain): the moment
 * "the last byte left the device". A pty nobody reads fills up (~40 KB) and
 * then blocks, so give up after `timeoutMs` with DEVICE_TIMEOUT instead of
 * hanging the caller.
 */
export async function writeDrained(port: SerialPort, bytes: Uint8Array, timeoutMs = 2000): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new HazriError("DEVICE_TIMEOUT", `write to ${port.path} not drained after ${timeoutMs} ms (nobody reading the pty?)`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([
      (async () => {
        await new Promise<void>((resolve, reject) => {
          port.write(Buffer.from(bytes), (err) => (err ? reject(err) : resolve()));
        });
        await new Promise<void>((resolve, reject) => port.drain((err) => (err ? reject(err) : resolve())));
      })(),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
  return performance.now();
}

export const delay = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
