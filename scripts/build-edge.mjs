#!/usr/bin/env node
// `npm run build:edge`: bundles the edge agent into one ESM file, dist/hazri-edge.mjs, for Pi-class
// boxes. Running from the TypeScript sources through tsx costs ~28 MB of RSS more (the loader and
// per-module transforms; measured in BENCHMARKS.md, "Edge on real ptys"). Native and logging
// packages stay external and load from node_modules next to it:
//   node dist/hazri-edge.mjs --config /etc/hazri/center.yaml
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
await build({
  stdin: {
    // edge/src/cli.ts runs main() itself when it is the entry module (import.meta.url = argv[1]),
    // which the bundle is: importing it is enough.
    contents: 'import "./edge/src/cli.ts";\n',
    resolveDir: root,
    sourcefile: "hazri-edge-entry.ts",
    loader: "ts",
  },
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outfile: `${root}dist/hazri-edge.mjs`,
  // Native addons (prebuilt or compiled .node files) and pino (worker-thread transports) cannot be bundled.
  external: ["better-sqlite3", "serialport", "@serialport/*", "pino"],
  // Bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __hazriCreateRequire } from 'node:module'; const require = __hazriCreateRequire(import.meta.url);" },
  sourcemap: "linked",
  logLevel: "warning",
});
console.log("dist/hazri-edge.mjs");
