// The official OpenAI Node SDK pointed at the Tollgate gateway, as a customer's code would be.
// Run by server/tests/gateway_client.rs: `node openai-client.mjs` with GATEWAY_BASE_URL,
// GATEWAY_KEY and GATEWAY_MODEL set. Prints one JSON object with what the client saw.
import OpenAI from "openai";

const client = new OpenAI({
  baseURL: process.env.GATEWAY_BASE_URL,
  apiKey: process.env.GATEWAY_KEY,
  maxRetries: 0,
});
const model = process.env.GATEWAY_MODEL;
const messages = [{ role: "user", content: "Say hello" }];
const seen = {};

const models = await client.models.list();
seen.models = models.data.map((m) => m.id);
seen.retrieved = await client.models.retrieve(model);
try {
  await client.models.retrieve("no-such-model");
} catch (err) {
  seen.missingModel = { status: err.status, name: err.constructor.name, code: err.code };
}

const answer = await client.chat.completions.create({ model, messages, max_tokens: 50 });
seen.answer = answer.choices[0].message.content;
seen.usage = answer.usage;

const stream = await client.chat.completions.create({
  model,
  messages,
  stream: true,
  stream_options: { include_usage: true },
});
seen.streamed = "";
for await (const chunk of stream) {
  seen.streamed += chunk.choices[0]?.delta?.content ?? "";
  if (chunk.usage) seen.streamUsage = chunk.usage;
}

// Not asked for, the usage chunk (which has no choices) does not come, as from OpenAI.
const plain = await client.chat.completions.create({ model, messages, stream: true });
seen.plainStreamed = "";
for await (const chunk of plain) {
  if (chunk.choices.length === 0) seen.plainChunkWithoutChoices = chunk;
  seen.plainStreamed += chunk.choices[0].delta?.content ?? "";
}

// Spend until the team's cap refuses.
for (let i = 0; i < 1000 && !seen.refusal; i++) {
  try {
    await client.chat.completions.create({ model, messages, max_tokens: 50 });
  } catch (err) {
    if (!(err instanceof OpenAI.APIError)) throw err;
    seen.refusal = { status: err.status, type: err.type, code: err.code, message: err.message };
  }
}

try {
  await new OpenAI({ baseURL: process.env.GATEWAY_BASE_URL, apiKey: "tg_wrong", maxRetries: 0 })
    .chat.completions.create({ model, messages });
} catch (err) {
  seen.wrongKey = { status: err.status, name: err.constructor.name };
}

console.log(JSON.stringify(seen));
