import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerNodeFlags } from '../../../service/main/build';

describe('containerNodeFlags', () => {
  it("reads the heap flags from the image's own CMD", () => {
    expect(containerNodeFlags()).toEqual(['--max-semi-space-size=8', '--heap-growing-percent=20']);
  });

  it('refuses a Dockerfile whose CMD does not run node index.js in exec form', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dockerfile-'));
    const shellForm = join(dir, 'Dockerfile');
    writeFileSync(shellForm, 'FROM node\nCMD node index.js\n');
    expect(() => containerNodeFlags(shellForm)).toThrow(
      `${shellForm}: expected an exec-form CMD ["node", ...flags, "index.js"]`,
    );
  });
});
