import { defineConfig } from "vitest/config";

// Two projects: fast unit tests colocated with the code (*.test.ts), and
// integration/e2e scenarios under test/ that start real influxd, brokers,
// socat ptys and NUT daemons. Integration files run one at a time: they start
// real processes and a 2-core CI box is the budget.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["{protocol,edge,server,firmware-sim,cli,dashboards}/**/*.test.ts"],
          environment: "node",
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          pool: "forks",
        },
      },
    ],
  },
});
