/**
 * Real third-party clients of the Responses API, unchanged and with their defaults, through the
 * gateway: the OpenAI Agents SDK, the Vercel AI SDK's default provider and LangChain's ChatOpenAI with
 * `useResponsesApi`. The stage runs with strict parameters, so any parameter a client sends that the
 * gateway's spec does not know fails these tests; spend is compared with what the fake upstream billed.
 */
import {
  Agent,
  run,
  setDefaultOpenAIClient,
  setOpenAIAPI,
  setTracingDisabled,
  tool as agentTool,
} from '@openai/agents';
import { createOpenAI } from '@ai-sdk/openai';
import { ChatOpenAI } from '@langchain/openai';
import { generateText, stepCountIs, streamText, tool as aiTool } from 'ai';
import { createRequire } from 'node:module';
import type { ClientOptions } from 'openai';
import { z } from 'zod';
import { costNanos } from '../../../runtime/pricing';
import { eventually } from '../../support/eventually';
import { GatewayHarness, KEYS } from '../../support/gateway-harness';

const MINI = { inputUsdPer1M: 0.15, outputUsdPer1M: 0.6 };

describe('third-party Responses clients through the gateway', () => {
  let h: GatewayHarness;
  const weatherCalls: string[] = [];
  let spentBefore = 0;

  beforeAll(async () => {
    h = await GatewayHarness.start({ config: { limits: { strictParameters: true } } });
    setDefaultOpenAIClient(agentsClient({ baseURL: h.url, apiKey: KEYS.app, maxRetries: 0 }));
    setOpenAIAPI('responses');
    // Traces are off here; traces.test.ts points the SDK's exporter at the gateway.
    setTracingDisabled(true);
  });
  beforeEach(async () => {
    spentBefore = (await h.store.monthToDateSpendNanos()) ?? 0;
  });
  afterEach(() => {
    h.fake.reset();
    weatherCalls.length = 0;
  });
  afterAll(() => h.stop());

  const responsesCalls = () => h.fake.requestsTo('/v1/responses');
  /** The budgets saw exactly what upstream billed. */
  const spendIsBilled = () =>
    eventually(
      async () =>
        (await h.store.monthToDateSpendNanos()) ===
        spentBefore + h.fake.billed.reduce((sum, b) => sum + costNanos(MINI, b.usage), 0),
    );

  describe('OpenAI Agents SDK', () => {
    const agent = () =>
      new Agent({
        name: 'Weather',
        instructions: 'Answer about the weather.',
        model: 'gpt-4o-mini',
        tools: [
          agentTool({
            name: 'get_weather',
            description: 'Weather in a city',
            parameters: z.object({ city: z.string() }),
            execute: async ({ city }) => {
              weatherCalls.push(city);
              return `Sunny in ${city}`;
            },
          }),
        ],
      });

    it('runs a tool loop to a final answer', async () => {
      const result = await run(agent(), 'Weather in Paris?');
      expect(result.finalOutput).toBe(h.fake.behaviour.text);
      expect(weatherCalls).toEqual(['x']);
      expect(responsesCalls()).toHaveLength(2);
      expect(h.fake.billed.map((b) => b.endpoint)).toEqual(['responses', 'responses']);
      await spendIsBilled();
    });

    it('runs it streamed', async () => {
      const stream = await run(agent(), 'Weather in Paris?', { stream: true });
      let text = '';
      for await (const piece of stream.toTextStream()) text += piece;
      await stream.completed;
      expect(text).toBe(h.fake.behaviour.text);
      expect(stream.finalOutput).toBe(h.fake.behaviour.text);
      expect(weatherCalls).toEqual(['x']);
      expect(responsesCalls().every((r) => r.body.stream === true)).toBe(true);
      await spendIsBilled();
    });
  });

  describe('Vercel AI SDK', () => {
    const provider = () => createOpenAI({ baseURL: h.url, apiKey: KEYS.app });

    it('generates and streams text', async () => {
      const openai = provider();
      const generated = await generateText({ model: openai('gpt-4o-mini'), prompt: 'hi', maxRetries: 0 });
      expect(generated.text).toBe(h.fake.behaviour.text);
      expect(generated.usage.inputTokens).toBeGreaterThan(0);

      const streamed = streamText({ model: openai('gpt-4o-mini'), prompt: 'hi', maxRetries: 0 });
      let text = '';
      for await (const piece of streamed.textStream) text += piece;
      expect(text).toBe(h.fake.behaviour.text);
      expect((await streamed.usage).outputTokens).toBeGreaterThan(0);
      expect(responsesCalls()).toHaveLength(2);
      await spendIsBilled();
    });

    it('runs a multi-step tool loop', async () => {
      const result = await generateText({
        model: provider()('gpt-4o-mini'),
        prompt: 'Weather in Paris?',
        maxRetries: 0,
        stopWhen: stepCountIs(3),
        tools: {
          get_weather: aiTool({
            description: 'Weather in a city',
            inputSchema: z.object({ city: z.string() }),
            execute: async ({ city }) => {
              weatherCalls.push(city);
              return { city, sky: 'sunny' };
            },
          }),
        },
      });
      expect(result.steps).toHaveLength(2);
      expect(result.steps[0].toolCalls.map((c) => c.toolName)).toEqual(['get_weather']);
      expect(weatherCalls).toEqual(['x']);
      expect(result.text).toBe(h.fake.behaviour.text);
      await spendIsBilled();
    });
  });

  describe('LangChain ChatOpenAI with useResponsesApi', () => {
    const model = () =>
      new ChatOpenAI({
        model: 'gpt-4o-mini',
        apiKey: KEYS.app,
        useResponsesApi: true,
        maxRetries: 0,
        configuration: { baseURL: h.url },
      });

    it('invokes and streams', async () => {
      const message = await model().invoke('hi');
      expect(message.text).toBe(h.fake.behaviour.text);
      let text = '';
      for await (const chunk of await model().stream('hi')) text += chunk.text;
      expect(text).toBe(h.fake.behaviour.text);
      expect(responsesCalls()).toHaveLength(2);
    });

    it('gets a tool call from bound tools', async () => {
      const withTools = model().bindTools([
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Weather in a city',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
        },
      ]);
      const message = await withTools.invoke('Weather in Paris?');
      expect(message.tool_calls).toEqual([
        expect.objectContaining({ name: 'get_weather', args: { city: 'x' } }),
      ]);
    });
  });
});

type AgentsClient = Parameters<typeof setDefaultOpenAIClient>[0];

/** A client of the `openai` copy the Agents SDK ships with (v7), the one its default would be. */
function agentsClient(options: ClientOptions): AgentsClient {
  const requireFromAgents = createRequire(require.resolve('@openai/agents-openai'));
  const { OpenAI } = requireFromAgents('openai') as { OpenAI: new (o: ClientOptions) => AgentsClient };
  return new OpenAI(options);
}
