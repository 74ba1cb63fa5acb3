/**
 * The endpoint specs the gateway serves, and the request policy they prepare bodies against. The route
 * table is built from `ENDPOINT_SPECS`: adding an endpoint is one spec module and one line here.
 */
import type { GatewayConfig } from '../../runtime/gateway-config';
import { speech, transcriptions, translations } from './audio';
import { chatCompletions } from './chat-completions';
import { completions } from './completions';
import { embeddings } from './embeddings';
import { imageEdits, imageGenerations } from './images';
import { moderations } from './moderations';
import { responses } from './responses';
import { responsesCompact } from './responses-compact';
import { ModelAccess } from './model-access';
import type { EndpointSpec, RequestPolicy } from './spec';

export const ENDPOINT_SPECS: readonly EndpointSpec[] = [
  chatCompletions,
  embeddings,
  responses,
  completions,
  moderations,
  responsesCompact,
  imageGenerations,
  imageEdits,
  speech,
  transcriptions,
  translations,
];

/** The spec that serves `route`, if any. */
export function specForRoute(route: string): EndpointSpec | undefined {
  return ENDPOINT_SPECS.find((spec) => spec.route === route);
}

/** Builds the policy once per config: the per-client model sets are resolved here, not per request. */
export function createRequestPolicy(config: GatewayConfig): RequestPolicy {
  return { config, models: new ModelAccess(config) };
}

export type { EndpointSpec, PreparedCall, RequestPolicy, StreamReader } from './spec';
