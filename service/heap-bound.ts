/** Side-effect module: bounds the V8 heap (see heap.ts). The entry point imports it first. */
import { boundHeap } from './heap';

boundHeap();
