/** Worker entry: HTTP ingestion and the queue consumers. */
import { createApp } from "./app.js";
import type { EdgeEnv } from "./config.js";
import { handleQueue } from "./queue/consumer.js";

const app = createApp();

export default {
  fetch: app.fetch,
  queue: handleQueue,
} satisfies ExportedHandler<EdgeEnv>;
