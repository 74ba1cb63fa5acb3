/** The rules of an upload's fields: one file, OpenAI's purposes, `expires_after` bounds, strict names. */
import { validateFileUpload } from '../../../service/endpoints/files';
import { GatewayError } from '../../../service/errors';
import type { MultipartParts } from '../../../service/pipeline/multipart-relay';

const LIMITS = { maxTokens: 10, defaultMaxTokens: 10, maxN: 1, maxStopSequences: 1, maxBodyBytes: 4096 };
const parts = (
  fields: Record<string, string>,
  files = [{ field: 'file', filename: 'a', bytes: 1 }],
): MultipartParts => ({
  fields: new Map(Object.entries(fields)),
  files,
  bytes: 100,
});
const refusal = (p: MultipartParts, strict = false) => {
  try {
    validateFileUpload(p, { ...LIMITS, strictParameters: strict });
  } catch (err) {
    if (err instanceof GatewayError) return { status: err.status, param: err.param };
    throw err;
  }
  return undefined;
};

describe('validateFileUpload', () => {
  it("accepts each of OpenAI's purposes, with or without expires_after", () => {
    for (const purpose of ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'])
      expect(refusal(parts({ purpose }))).toBeUndefined();
    expect(
      refusal(
        parts({ purpose: 'batch', 'expires_after[anchor]': 'created_at', 'expires_after[seconds]': '3600' }),
      ),
    ).toBeUndefined();
  });

  it('refuses a missing or unknown purpose, a missing or repeated file, naming the field', () => {
    expect(refusal(parts({}))).toEqual({ status: 400, param: 'purpose' });
    expect(refusal(parts({ purpose: 'batch_output' }))).toEqual({ status: 400, param: 'purpose' });
    expect(refusal(parts({ purpose: 'batch' }, []))).toEqual({ status: 400, param: 'file' });
    expect(refusal(parts({ purpose: 'batch', file: 'text, not a file' }))).toEqual({
      status: 400,
      param: 'file',
    });
    const two = [
      { field: 'file', filename: 'a', bytes: 1 },
      { field: 'file', filename: 'b', bytes: 1 },
    ];
    expect(refusal(parts({ purpose: 'batch' }, two))).toEqual({ status: 400, param: 'file' });
  });

  it("refuses expires_after out of OpenAI's bounds or with another anchor", () => {
    const expiry = (anchor: string, seconds: string) =>
      refusal(
        parts({ purpose: 'batch', 'expires_after[anchor]': anchor, 'expires_after[seconds]': seconds }),
      );
    expect(expiry('created_at', '3599')).toEqual({ status: 400, param: 'expires_after.seconds' });
    expect(expiry('created_at', '2592001')).toEqual({ status: 400, param: 'expires_after.seconds' });
    expect(expiry('last_active_at', '3600')).toEqual({ status: 400, param: 'expires_after.anchor' });
  });

  it('refuses an unknown field under strict parameters only', () => {
    expect(refusal(parts({ purpose: 'batch', colour: 'red' }))).toBeUndefined();
    expect(refusal(parts({ purpose: 'batch', colour: 'red' }), true)).toEqual({
      status: 400,
      param: 'colour',
    });
  });
});
