import { defineConfig } from "vitest/config";
import { cloudflareTest } from "@cloudflare/vitest-pool-workers";

// Runs edge tests inside workerd (the real Workers runtime) with the bindings of wrangler.toml.
export default defineConfig({
  plugins: [
    cloudflareTest({
      main: "./edge/src/index.ts",
      wrangler: { configPath: "./wrangler.toml" },
    }),
  ],
  test: {
    include: ["edge/**/*.test.ts"],
    exclude: ["edge/**/*.node.test.ts"],
  },
});
