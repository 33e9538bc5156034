import { defineConfig } from "vitest/config";

// Node-side tests: contracts, local emulators (Cloud Storage, Pub/Sub), pipeline, warehouse, CLI.
// Edge tests run in workerd through edge/vitest.config.ts.
export default defineConfig({
  test: {
    include: ["{contracts,infra,pipeline,platform,warehouse,workload,dags,bin,test,edge}/**/*.node.test.ts", "{contracts,infra,pipeline,platform,warehouse,workload,dags,bin,test}/**/*.test.ts"],
    // The goccy BigQuery emulator probe needs a 20-25 minute clang build that CI's set-up leaves out:
    // `bash infra/local/setup.sh bigquery-emulator`, then `npm run test:bigquery-emulator`.
    exclude: ["**/node_modules/**", ".data/**", ...(process.env.TIDELINE_BIGQUERY_EMULATOR_TEST ? [] : ["infra/local/bigquery-emulator.test.ts"])],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores on CI: run files one or two at a time so emulator/DuckDB-heavy suites don't starve each other.
    maxWorkers: 2,
  },
});
