const NOT_AUDITED = 'bulkhead:audit:not-audited';
const IGNORED = 'bulkhead:audit:ignored';
const REDACTED = 'bulkhead:audit:redacted';

/** Leaves an entity out of the audit: no capture trigger is installed on its table. */
export function NotAudited(): ClassDecorator {
  return (target) => Reflect.defineMetadata(NOT_AUDITED, true, target);
}

/** Leaves a property out of audit entries entirely: its value and its changes are not recorded. */
export function AuditIgnore(): PropertyDecorator {
  return (target, key) => addTo(IGNORED, target.constructor, String(key));
}

/**
 * Never stores a property's value in the audit (no entry, diff, log or export holds it), but records that it
 * changed: its name appears in the entry's `changed` and `redacted` lists. Use it for secrets.
 */
export function AuditRedact(): PropertyDecorator {
  return (target, key) => addTo(REDACTED, target.constructor, String(key));
}

function addTo(key: string, target: object, property: string): void {
  const own = (Reflect.getOwnMetadata(key, target) as string[] | undefined) ?? [];
  Reflect.defineMetadata(key, [...own, property], target);
}

/** What the decorators say about an entity class (inherited properties included). @internal */
export function auditOptionsOf(target: object): {
  notAudited: boolean;
  ignored: string[];
  redacted: string[];
} {
  const collect = (key: string) => {
    const out = new Set<string>();
    for (let t: object | null = target; t && t !== Function.prototype; t = Object.getPrototypeOf(t)) {
      for (const p of (Reflect.getOwnMetadata(key, t) as string[] | undefined) ?? []) out.add(p);
    }
    return [...out];
  };
  return {
    notAudited: Reflect.getMetadata(NOT_AUDITED, target) === true,
    ignored: collect(IGNORED),
    redacted: collect(REDACTED),
  };
}
