import net from "node:net";

/**
 * A TCP port that was free a moment ago on 127.0.0.1: bind to port 0, let the
 * kernel pick, close, return it. Racy by nature (someone may take it before the
 * daemon binds), but the kernel hands out ephemeral ports round-robin, so a reuse
 * within the same second is unlikely; launchers fail loudly if the bind fails.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", reject);
    srv.listen({ host: "127.0.0.1", port: 0, exclusive: true }, () => {
      const addr = srv.address();
      if (addr === null || typeof addr === "string") {
        srv.close();
        reject(new Error("freePort: unexpected server address"));
        return;
      }
      const { port } = addr;
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}
