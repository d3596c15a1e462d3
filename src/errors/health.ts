import { MeshError } from './base.js'

/** An outcome reported to the health tracker carried an impossible value. */
export class HealthSampleInvalidError extends MeshError {
  override name = 'HealthSampleInvalidError'
  constructor(provider: string, field: string, value: unknown) {
    super('E_HEALTH_SAMPLE_INVALID', `Invalid health sample for ${provider}: ${field} is ${String(value)}`, {
      details: { provider, field, value: String(value) },
      hint: 'Report latencies as finite milliseconds >= 0 and failure kinds from FAILURE_KINDS.',
    })
  }
}

/** Health options broke a rule. */
export class HealthOptionsInvalidError extends MeshError {
  override name = 'HealthOptionsInvalidError'
  constructor(field: string, rule: string) {
    super('E_HEALTH_OPTIONS_INVALID', `Invalid health option ${field}: ${rule}`, {
      details: { field, rule },
      hint: 'See DEFAULT_HEALTH_OPTIONS for the accepted options and their defaults.',
    })
  }
}

/** Every allowed provider is ejected and the ejection cap let it happen (maxEjectionShare 1). */
export class NoHealthyProviderError extends MeshError {
  override name = 'NoHealthyProviderError'
  constructor(name: string, providers: readonly string[]) {
    super('E_NO_HEALTHY_PROVIDER', `Every allowed provider of ${name} is ejected (circuit open)`, {
      details: { name, providers },
      hint: 'Wait for the circuits to half-open, or lower health.maxEjectionShare below 1.',
    })
  }
}
