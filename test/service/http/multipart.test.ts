import { encodeMultipart, MultipartBody, parseMultipart } from '../../../service/http/multipart';

describe('multipart bodies', () => {
  it('parses what it encodes: fields (repeated ones in order) and files byte for byte', async () => {
    const data = Buffer.from([0, 1, 2, 255, 13, 10, 45, 45]);
    const encoded = encodeMultipart({ model: 'whisper-1', 'include[]': ['logprobs', 'x'], skipped: 3 }, [
      { field: 'file', filename: 'a "b".mp3', contentType: 'audio/mpeg', data },
    ]);
    const form = await parseMultipart(encoded.payload, encoded.contentType);
    expect(form.toRecord()).toEqual({ model: 'whisper-1', 'include[]': ['logprobs', 'x'] });
    expect(form.field('include[]')).toBe('x');
    expect(form.files).toHaveLength(1);
    expect(form.files[0]).toMatchObject({ field: 'file', contentType: 'audio/mpeg' });
    expect(form.files[0].data.equals(data)).toBe(true);
    expect(form.fileBytes).toBe(data.length);
  });

  it('finds the files of a field sent as an array', () => {
    const file = { filename: 'a.png', contentType: 'image/png', data: Buffer.from('x') };
    const form = new MultipartBody(new Map(), [
      { ...file, field: 'image[]' },
      { ...file, field: 'image[]' },
      { ...file, field: 'mask' },
    ]);
    expect(form.filesOf('image')).toHaveLength(2);
    expect(form.filesOf('mask')).toHaveLength(1);
    expect(form.filesOf('file')).toHaveLength(0);
  });

  it('rejects a body that does not follow its boundary', async () => {
    await expect(
      parseMultipart(Buffer.from('garbage'), 'multipart/form-data; boundary=abc'),
    ).rejects.toThrow();
  });
});
