/** Jest global teardown: stops the embedded server if global setup started one. */
export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as { __bulkheadEmbedded?: { stop(): Promise<void> } }).__bulkheadEmbedded;
  if (server) await server.stop();
}
