/** Placeholder until the Pub/Sub + archive consumer lands: leaves messages on the queue for retry. */
export async function handleQueue(batch: MessageBatch<unknown>, _env: Env): Promise<void> {
  batch.retryAll({ delaySeconds: 30 });
}
