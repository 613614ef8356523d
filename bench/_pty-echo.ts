/**
 * The bare pty round trip of bench/edge-pty.ts: a process that does what the edge's fast path does
 * on the wire, and nothing else — read a 14-byte RDM6300 frame (STX … ETX) from one pty with
 * node-serialport, write a 4-byte LCUS command to another. `node --import tsx bench/_pty-echo.ts <in> <out>`.
 */
import { SerialPort } from "serialport";

const [inPath, outPath] = process.argv.slice(2);
if (!inPath || !outPath) {
  console.error("usage: _pty-echo.ts <in-pty> <out-pty>");
  process.exit(2);
}
const open = (p: string) =>
  new Promise<SerialPort>((res, rej) => {
    const sp: SerialPort = new SerialPort({ path: p, baudRate: 9600 }, (e) => (e ? rej(e) : res(sp)));
  });
const input = await open(inPath);
const output = await open(outPath);
const CMD = Buffer.from([0xa0, 0x01, 0x01, 0xa2]); // LCUS channel 1 ON (§8.1)
let have = 0;
input.on("data", (chunk: Buffer) => {
  for (const b of chunk) {
    if (b === 0x02) have = 1;
    else if (have > 0 && ++have === 14 && b === 0x03) {
      output.write(CMD);
      have = 0;
    }
  }
});
process.stdout.write("ready\n");
process.on("SIGTERM", () => process.exit(0));
