// Loaded first by every entry point (src/index.ts, the CLI, each registries/<kind>/index.ts, the
// vitest setup). Node 20 lacks Promise.withResolvers, which libp2p 3 and Helia 7 call at import time.
if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void
      let reject!: (reason?: unknown) => void
      const promise = new Promise<T>((res, rej) => {
        resolve = res
        reject = rej
      })
      return { promise, resolve, reject }
    },
  })
}

export {}
