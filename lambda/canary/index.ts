import { createHandlerTools, instrumentedHandler } from '../../runtime/powertools';
import { runCanary } from './canary';

const tools = createHandlerTools();

/**
 * Scheduled canary: one tiny streamed chat completion and one streamed Responses call, published as
 * CanarySuccess, CanaryLatency/TimeToFirstToken and CanaryResponsesLatency/TimeToFirstToken.
 */
export const handler = instrumentedHandler(tools, (_event: unknown) => runCanary(tools));
