import { parseGatewayConfig } from '../../../runtime/gateway-config';
import { ModelAccess } from '../../../service/endpoints/model-access';
import { GatewayError } from '../../../service/errors';
import { refusalOf } from '../../support/refusal';
import { testConfigDocument } from '../../support/gateway-harness';

const access = new ModelAccess(parseGatewayConfig(testConfigDocument()));
const EVERY_NAME = ['gpt-4o-mini', 'gpt-4o', 'text-embedding-3-small', 'fast', 'embed'];

const refusal = (client: { id: string }, requested: unknown, on: ModelAccess = access): GatewayError =>
  refusalOf(() => on.resolve(client, requested));

describe('ModelAccess.modelsFor', () => {
  it.each(['app', 'other'])('lists every model and alias for %s, which has no model list', (id) => {
    expect(access.modelsFor({ id })).toEqual(EVERY_NAME);
  });

  it('lists only what the limited client may call', () => {
    expect(access.modelsFor({ id: 'limited' })).toEqual(['fast']);
  });

  it('lists every model and alias for a caller the config does not list', () => {
    expect(access.modelsFor({ id: 'batch' })).toEqual(EVERY_NAME);
  });

  it('lists a real model and every alias to it for a client that lists the real model', () => {
    const doc = testConfigDocument({
      clients: [
        {
          id: 'minis',
          keySha256: 'a'.repeat(64),
          rpm: 1,
          tpm: 1,
          monthlyBudgetUsd: 1,
          models: ['gpt-4o-mini'],
        },
      ],
    });
    const minis = new ModelAccess(parseGatewayConfig(doc));
    expect(minis.modelsFor({ id: 'minis' })).toEqual(['gpt-4o-mini', 'fast']);
    expect(minis.resolve({ id: 'minis' }, 'fast')).toEqual({ requestedModel: 'fast', model: 'gpt-4o-mini' });
    expect(refusal({ id: 'minis' }, 'embed', minis).code).toBe('model_not_allowed');
  });
});

describe('ModelAccess.resolve', () => {
  it.each<[string, string, string]>([
    ['app', 'fast', 'gpt-4o-mini'],
    ['app', 'embed', 'text-embedding-3-small'],
    ['app', 'gpt-4o', 'gpt-4o'],
    ['other', 'gpt-4o-mini', 'gpt-4o-mini'],
    ['limited', 'fast', 'gpt-4o-mini'],
    ['batch', 'gpt-4o', 'gpt-4o'],
    ['batch', 'embed', 'text-embedding-3-small'],
  ])('lets %s call %s, which is %s', (id, requested, model) => {
    expect(access.resolve({ id }, requested)).toEqual({ requestedModel: requested, model });
  });

  it.each<[string, unknown]>([
    ['no model', undefined],
    ['null', null],
    ['an empty string', ''],
    ['a number', 4],
    ['an array', ['gpt-4o']],
    ['an object', { name: 'gpt-4o' }],
  ])('refuses %s with 400', (_what, requested) => {
    const err = refusal({ id: 'app' }, requested);
    expect({ status: err.status, message: err.message, param: err.param, code: err.code }).toEqual({
      status: 400,
      message: "'model' must be a non-empty string.",
      param: 'model',
      code: null,
    });
  });

  it.each(['gpt-5', 'GPT-4O', 'constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'refuses the unknown model %s with 404',
    (requested) => {
      for (const id of ['app', 'limited', 'batch']) {
        const err = refusal({ id }, requested);
        expect({ status: err.status, message: err.message, param: err.param, code: err.code }).toEqual({
          status: 404,
          message: `The model \`${requested}\` does not exist or you do not have access to it.`,
          param: 'model',
          code: 'model_not_found',
        });
      }
    },
  );

  it.each(['gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small', 'embed'])(
    'refuses limited the model %s outside its list with 403',
    (requested) => {
      const err = refusal({ id: 'limited' }, requested);
      expect({ status: err.status, message: err.message, param: err.param, code: err.code }).toEqual({
        status: 403,
        message: `Your application is not allowed to use the model \`${requested}\`.`,
        param: 'model',
        code: 'model_not_allowed',
      });
      expect(err.type).toBe('invalid_request_error');
    },
  );
});
