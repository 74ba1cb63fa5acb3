import { createHandlerTools, instrumentedHandler } from '../../runtime/powertools';
import { runCanary } from './canary';

const tools = createHandlerTools();

/** Scheduled canary: one tiny streaming chat completion, published as CanarySuccess/Latency/TimeToFirstToken. */
export const handler = instrumentedHandler(tools, (_event: unknown) => runCanary(tools));
