import { Worker, type WorkerOptions } from 'node:worker_threads'

/** Whether this code runs from its TypeScript sources (vitest, tsx) rather than the compiled `dist/`. */
const FROM_SOURCE = import.meta.url.endsWith('.ts')

/**
 * Starts a worker thread on a module of this package, named by its compiled URL
 * (`new URL('./_x.js', import.meta.url)`). Compiled, that file is the worker. From the TypeScript
 * sources the worker runs `./_x.ts` instead, with tsx's loader preloaded (`_tsxWorker.mjs`), since a
 * worker thread on Node 20 has none of the main thread's loaders; tsx is then a devDependency at hand.
 */
export function startWorker(url: URL, options: WorkerOptions = {}): Worker {
  if (!FROM_SOURCE) return new Worker(url, options)
  const source = new URL(url.href.replace(/\.js$/, '.ts'))
  const preload = new URL('./_tsxWorker.mjs', import.meta.url).href
  return new Worker(source, { ...options, execArgv: [...(options.execArgv ?? []), '--import', preload] })
}
