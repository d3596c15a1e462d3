// Preloaded (`--import`) into a worker thread started from the TypeScript sources, under vitest or
// tsx (see `_workerModule.ts`): on Node 20 a worker inherits no module hooks and tsx registers itself
// on the main thread only, so the worker registers tsx's loader itself. The compiled package never
// loads this file.
import { register } from 'tsx/esm/api'

register()
