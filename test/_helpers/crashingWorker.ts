import { parentPort } from 'node:worker_threads'

// A worker module that fails on every message: the pool's crash path, in tests.
parentPort?.on('message', () => {
  throw new Error('boom')
})
