/**
 * Real third-party clients of the Responses API against the fake: the OpenAI Agents SDK, the Vercel AI
 * SDK and LangChain. Each parses the wire format its own way, so each completing proves the fake speaks
 * it (and that its unknown-parameter list accepts what real clients send).
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
import { FakeOpenAI } from './fake-openai';

describe('fake OpenAI upstream: third-party Responses clients', () => {
  const fake = new FakeOpenAI();
  const weatherCalls: string[] = [];

  beforeAll(async () => {
    const { url } = await fake.start();
    setDefaultOpenAIClient(agentsClient({ baseURL: url, apiKey: 'sk-test', maxRetries: 0 }));
    setOpenAIAPI('responses');
    setTracingDisabled(true);
  });
  afterEach(() => {
    fake.reset();
    weatherCalls.length = 0;
  });
  afterAll(() => fake.stop());

  const responsesCalls = () => fake.requestsTo('/v1/responses');

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
      expect(result.finalOutput).toBe(fake.behaviour.text);
      expect(weatherCalls).toEqual(['x']);
      expect(responsesCalls()).toHaveLength(2);
      expect(fake.billed.map((b) => b.endpoint)).toEqual(['responses', 'responses']);
    });

    it('runs it streamed', async () => {
      const stream = await run(agent(), 'Weather in Paris?', { stream: true });
      let text = '';
      for await (const piece of stream.toTextStream()) text += piece;
      await stream.completed;
      expect(text).toBe(fake.behaviour.text);
      expect(stream.finalOutput).toBe(fake.behaviour.text);
      expect(weatherCalls).toEqual(['x']);
      expect(responsesCalls().every((r) => r.body.stream === true)).toBe(true);
    });
  });

  describe('Vercel AI SDK', () => {
    const provider = () => createOpenAI({ baseURL: fake.url, apiKey: 'sk-test' });

    it('generates and streams text', async () => {
      const openai = provider();
      const generated = await generateText({ model: openai('gpt-4o-mini'), prompt: 'hi', maxRetries: 0 });
      expect(generated.text).toBe(fake.behaviour.text);
      expect(generated.usage.inputTokens).toBeGreaterThan(0);

      const streamed = streamText({ model: openai('gpt-4o-mini'), prompt: 'hi', maxRetries: 0 });
      let text = '';
      for await (const piece of streamed.textStream) text += piece;
      expect(text).toBe(fake.behaviour.text);
      expect((await streamed.usage).outputTokens).toBeGreaterThan(0);
      expect(responsesCalls()).toHaveLength(2);
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
      expect(result.text).toBe(fake.behaviour.text);
    });
  });

  describe('LangChain ChatOpenAI with useResponsesApi', () => {
    const model = () =>
      new ChatOpenAI({
        model: 'gpt-4o-mini',
        apiKey: 'sk-test',
        useResponsesApi: true,
        maxRetries: 0,
        configuration: { baseURL: fake.url },
      });

    it('invokes and streams', async () => {
      const message = await model().invoke('hi');
      expect(message.text).toBe(fake.behaviour.text);
      let text = '';
      for await (const chunk of await model().stream('hi')) text += chunk.text;
      expect(text).toBe(fake.behaviour.text);
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

/**
 * A client of the `openai` copy the Agents SDK ships with (v7, nested under `@openai/agents-openai`,
 * while the project's is v6): the client its default would be, and the type it accepts.
 */
function agentsClient(options: ClientOptions): AgentsClient {
  const requireFromAgents = createRequire(require.resolve('@openai/agents-openai'));
  const { OpenAI } = requireFromAgents('openai') as { OpenAI: new (o: ClientOptions) => AgentsClient };
  return new OpenAI(options);
}
