#!/usr/bin/env node
// Entry point of the `hazri` CLI. Hazri runs from its TypeScript sources through
// tsx's ESM loader: one less build step to keep in sync on a Pi-class edge box.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
