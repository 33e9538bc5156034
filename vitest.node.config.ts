import { defineConfig } from "vitest/config";

// Node-side tests: contracts, local emulators (Cloud Storage, Pub/Sub), pipeline, warehouse, CLI.
// Edge tests run in workerd through edge/vitest.config.ts.
export default defineConfig({
  test: {
    include: ["{contracts,infra,pipeline,warehouse,dags,bin,test,edge}/**/*.node.test.ts", "{contracts,infra,pipeline,warehouse,dags,bin,test}/**/*.test.ts"],
    exclude: ["**/node_modules/**", ".data/**"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores on CI: run files one or two at a time so emulator/DuckDB-heavy suites don't starve each other.
    maxWorkers: 2,
  },
});
