// Scope table: contracts/scopes.yaml -> generated/scopes.gen.ts. Emits the scope names as a const tuple, the
// ScopeName union, and exhaustive Record<ScopeName, ...> maps for tier and description, so code that handles
// scopes cannot compile while a scope is unmapped.
import type { Contracts } from "../contracts.ts";
import { type GeneratedFile, literal } from "../emit.ts";

export const SCOPES_OUTPUT = "generated/scopes.gen.ts";

export function generateScopes(contracts: Contracts): GeneratedFile[] {
  const scopes = [...contracts.scopes].sort((a, b) => a.name.localeCompare(b.name));
  const tiers = contracts.tiers.map((tier) => tier.name);
  const content = `
/** Risk tiers, lowest first. */
export const TIERS = ${literal(tiers)} as const;
export type Tier = (typeof TIERS)[number];

export const TIER_DESCRIPTIONS: Record<Tier, string> = ${literal(
    Object.fromEntries(contracts.tiers.map((tier) => [tier.name, tier.description])),
  )};

/** Every permission scope, sorted by name. */
export const SCOPE_NAMES = ${literal(scopes.map((scope) => scope.name))} as const;
export type ScopeName = (typeof SCOPE_NAMES)[number];

export const SCOPE_TIERS: Record<ScopeName, Tier> = ${literal(
    Object.fromEntries(scopes.map((scope) => [scope.name, scope.tier])),
  )};

export const SCOPE_DESCRIPTIONS: Record<ScopeName, string> = ${literal(
    Object.fromEntries(scopes.map((scope) => [scope.name, scope.description])),
  )};

export function isScopeName(value: string): value is ScopeName {
  return (SCOPE_NAMES as readonly string[]).includes(value);
}
`;
  return [
    {
      path: SCOPES_OUTPUT,
      content,
      generator: "codegen/generators/scopes.ts",
      sources: ["contracts/scopes.yaml"],
    },
  ];
}
