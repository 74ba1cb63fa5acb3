/** Side-effect module: bounds the young generation (see heap.ts). The entry point imports it first. */
import { boundYoungGeneration } from './heap';

boundYoungGeneration();
