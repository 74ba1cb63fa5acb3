/** Which models and aliases each client may call, resolved once per config. */
import {
  DEFAULT_API_FAMILIES,
  resolveModel,
  type ApiFamily,
  type ClientConfig,
  type GatewayConfig,
} from '../../runtime/gateway-config';
import { invalidRequest, modelNotAllowed, modelNotFound } from '../errors';
import type { Caller } from './spec';

/** The model a caller named and the real model behind it. */
export interface ResolvedModel {
  readonly requestedModel: string;
  readonly model: string;
}

export class ModelAccess {
  private readonly allowed = new Map<string, ReadonlySet<string> | undefined>();

  constructor(private readonly config: GatewayConfig) {
    for (const client of config.clients) {
      this.allowed.set(client.id, client.models ? new Set(client.models) : undefined);
    }
  }

  /** Model names and aliases `client` may call (for `GET /v1/models`). */
  modelsFor(client: Caller): string[] {
    const all = [...Object.keys(this.config.models), ...Object.keys(this.config.aliases)];
    return all.filter((name) => this.isAllowed(client, name, resolveModel(this.config, name) ?? name));
  }

  /**
   * The model of a body's `model` field.
   * @throws GatewayError 400 when it is not a string, 404 when unknown, 403 when the client may not use it
   */
  resolve(client: Caller, requested: unknown): ResolvedModel {
    if (typeof requested !== 'string' || requested.length === 0) {
      throw invalidRequest("'model' must be a non-empty string.", 'model');
    }
    const model = resolveModel(this.config, requested);
    if (model === undefined) throw modelNotFound(requested);
    if (!this.isAllowed(client, requested, model)) throw modelNotAllowed(requested);
    return { requestedModel: requested, model };
  }

  private isAllowed(client: Caller, requested: string, model: string): boolean {
    // A client the config does not list (the batch handler's own identity) may call every model.
    const allowed = this.allowed.get(client.id);
    return allowed === undefined || allowed.has(requested) || allowed.has(model);
  }
}

/** Whether `client` may call routes of `family` (`clients[].apiFamilies`). */
export function allowsFamily(client: Pick<ClientConfig, 'apiFamilies'>, family: ApiFamily): boolean {
  return (client.apiFamilies ?? DEFAULT_API_FAMILIES).includes(family);
}
