// A newswire consumer in Node.js: one member of a Redis consumer group on the article stream.
// Each event is handled by one consumer of the group; an event whose consumer died before
// acknowledging it is taken over by another (XAUTOCLAIM). Handle events idempotently (an
// upsert keyed on the article id): a crash between your work and XACK repeats an event.
//
//   npm ci && REDIS_URL=redis://localhost:6379/0 GROUP=indexer node consumer.mjs
import { hostname } from 'node:os';
import { createClient } from 'redis';

const env = process.env;
const config = {
  url: env.REDIS_URL ?? 'redis://localhost:6379/0',
  stream: env.STREAM ?? 'newswire:articles',
  group: env.GROUP ?? 'indexer',
  consumer: env.CONSUMER ?? hostname(),
  reclaimIdleMs: Number(env.RECLAIM_IDLE_MS ?? 60_000), // take over entries pending this long
  maxEvents: Number(env.MAX_EVENTS ?? 0), // stop after this many events (0: never)
  idleExitMs: Number(env.IDLE_EXIT_MS ?? 0), // stop after this long without events (0: never)
};

// Your work goes here. `fields` are the entry's flat string fields (docs/contract.md):
// type, id, schema_version, content_hash, data (the Article as JSON).
async function handle(entryId, fields) {
  if (fields.schema_version !== '1') throw new Error(`unknown schema_version ${fields.schema_version}`);
  const article = JSON.parse(fields.data);
  console.log(JSON.stringify({
    stream_id: entryId, type: fields.type, id: fields.id, title: article.title, url: article.url,
  }));
}

async function ensureGroup(client) {
  try {
    // '0': a new group starts with the oldest entry still in the stream ('$': only new ones)
    await client.xGroupCreate(config.stream, config.group, '0', { MKSTREAM: true });
  } catch (err) {
    if (!String(err?.message).includes('BUSYGROUP')) throw err; // the group exists already
  }
}

async function nextBatch(client, blockMs) {
  // 1. entries a consumer of the group took and never acknowledged (it died or hung)
  const claimed = await client.xAutoClaim(
    config.stream, config.group, config.consumer, config.reclaimIdleMs, '0-0', { COUNT: 50 });
  const stale = claimed.messages.filter((m) => m !== null);
  if (stale.length > 0) return stale;
  // 2. otherwise new entries, waiting up to blockMs for some
  const reply = await client.xReadGroup(
    config.group, config.consumer, { key: config.stream, id: '>' }, { COUNT: 50, BLOCK: blockMs });
  return reply ? reply.flatMap((stream) => stream.messages) : [];
}

async function main() {
  const client = createClient({ url: config.url });
  client.on('error', (err) => console.error('redis:', err.message)); // it reconnects by itself
  await client.connect();
  await ensureGroup(client);

  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { stopping = true; });

  let handled = 0;
  let lastEvent = Date.now();
  const blockMs = config.idleExitMs > 0 ? Math.min(1000, config.idleExitMs) : 5000;
  while (!stopping) {
    for (const { id, message } of await nextBatch(client, blockMs)) {
      await handle(id, message);
      await client.xAck(config.stream, config.group, id); // only after the work is done
      handled += 1;
      lastEvent = Date.now();
      if (config.maxEvents > 0 && handled >= config.maxEvents) stopping = true;
      if (stopping) break;
    }
    if (config.idleExitMs > 0 && Date.now() - lastEvent > config.idleExitMs) break;
  }
  await client.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
