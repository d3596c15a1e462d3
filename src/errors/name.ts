import { MeshError } from './base.js'

/** A function name broke one of the naming rules. `details.rule` names the rule. */
export class NameInvalidError extends MeshError {
  override name = 'NameInvalidError'
  constructor(input: string, rule: string, reason: string) {
    super('E_NAME_INVALID', `Invalid function name ${JSON.stringify(truncate(input))}: ${reason}`, {
      details: { name: truncate(input), rule },
      hint: 'A name is NAMESPACE/PATH[@VERSION], e.g. acme.com/image/sharpen@^1.2 or image-processing/sharpen.',
    })
  }
}

/** The part after `@` is neither `latest`, an exact version, nor a semver range. */
export class VersionSelectorInvalidError extends MeshError {
  override name = 'VersionSelectorInvalidError'
  constructor(input: string, selector: string) {
    super('E_VERSION_SELECTOR_INVALID', `Invalid version selector ${JSON.stringify(truncate(selector))}`, {
      details: { name: truncate(input), selector: truncate(selector), rule: 'version-selector' },
      hint: 'Use latest, an exact version (1.2.0) or a semver range (^1.2, ~1.2.3, >=1 <2).',
    })
  }
}

function truncate(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}...` : text
}
