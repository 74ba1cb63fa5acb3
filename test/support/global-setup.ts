import { join } from 'node:path';
import { bundleGateway } from '../../service/main/build';

/** Jest global setup: bundle the gateway once, so end-to-end tests start the same file the container runs. */
export default function globalSetup(): void {
  bundleGateway(join(__dirname, '..', '..', 'dist', 'gateway'));
}
