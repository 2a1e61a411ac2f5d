// The baseline of bench:queue: a BullMQ worker that does nothing with its jobs.
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const [url, prefix, queue, concurrency] = process.argv.slice(2) as [string, string, string, string];
const connection = new Redis(url, { maxRetriesPerRequest: null });
const worker = new Worker(queue, async () => {}, { connection, prefix, concurrency: Number(concurrency) });
await worker.waitUntilReady();
process.send?.('ready');
process.on('SIGTERM', async () => {
  await worker.close();
  await connection.quit();
  process.exit(0);
});
