import type { Filter, FilterField, FilterRule, NotifyUsers, Operation } from './schema';
import { parseFilterRule } from './schema';

/** The trace fields a rule looks at (the stored row's names). */
export interface MatchableTrace {
  serviceType: string;
  resourceType: string;
  traceName: string;
  userName?: string | null;
  apiVersion?: string | null;
  code?: string | null;
  traceRating: string;
  traceType: string;
  resourceId?: string | null;
  resourceName?: string | null;
}

/** An enabled rule as stored, with its JSON fields parsed. */
export interface RuleDefinition {
  id: string;
  name: string;
  operationType: 'complete' | 'customized';
  operations: Operation[];
  notifyUserList: NotifyUsers[];
  filter: Filter | null;
}

export interface CompiledRule {
  id: string;
  name: string;
  matches(trace: MatchableTrace): boolean;
}

/** A project's enabled rules, indexed so that a trace only meets the rules that name its operation. */
export interface CompiledRules {
  readonly size: number;
  match(trace: MatchableTrace): CompiledRule[];
}

const FIELD_OF: Record<FilterField, keyof MatchableTrace> = {
  api_version: 'apiVersion',
  code: 'code',
  trace_rating: 'traceRating',
  trace_type: 'traceType',
  resource_id: 'resourceId',
  resource_name: 'resourceName',
};

const operationKey = (serviceType: string, resourceType: string, traceName: string) =>
  `${serviceType}\u0000${resourceType}\u0000${traceName}`;

/**
 * One filter rule as a predicate. Comparison is exact and case-sensitive on the stored text;
 * a missing field equals nothing, so `field != value` holds for it and `field = value` does not.
 */
function compileFilterRule(rule: FilterRule): (trace: MatchableTrace) => boolean {
  const key = FIELD_OF[rule.field];
  const { value } = rule;
  return rule.op === '=' ? (trace) => trace[key] === value : (trace) => trace[key] !== value;
}

function compileFilter(filter: Filter | null): ((trace: MatchableTrace) => boolean) | undefined {
  if (!filter?.is_support_filter) return undefined;
  const tests = filter.rule
    .map(parseFilterRule)
    .filter((rule): rule is FilterRule => typeof rule !== 'string')
    .map(compileFilterRule);
  return filter.condition === 'OR'
    ? (trace) => tests.some((test) => test(trace))
    : (trace) => tests.every((test) => test(trace));
}

/**
 * The rule as one predicate: (complete OR operation listed — checked by the index) AND (no user
 * list OR the trace's user.name is listed in any group) AND (filter off OR filter passes).
 * Groups are not checked: a trace names its user, not the user's groups.
 */
export function compileRule(rule: RuleDefinition): CompiledRule {
  const users = rule.notifyUserList.length
    ? new Set(rule.notifyUserList.flatMap((group) => group.user_list))
    : undefined;
  const filter = compileFilter(rule.filter);
  return {
    id: rule.id,
    name: rule.name,
    matches: (trace) =>
      (users === undefined || (trace.userName != null && users.has(trace.userName))) &&
      (filter === undefined || filter(trace)),
  };
}

/** Compiles a project's enabled rules once; matching a trace is then a map lookup plus the candidates. */
export function compileRules(rules: RuleDefinition[]): CompiledRules {
  const everyOperation: CompiledRule[] = [];
  const byOperation = new Map<string, CompiledRule[]>();
  for (const rule of rules) {
    const compiled = compileRule(rule);
    if (rule.operationType === 'complete') {
      everyOperation.push(compiled);
      continue;
    }
    const keys = new Set(
      rule.operations.flatMap((op) =>
        op.trace_names.map((name) => operationKey(op.service_type, op.resource_type, name)),
      ),
    );
    for (const key of keys) {
      const list = byOperation.get(key);
      if (list) list.push(compiled);
      else byOperation.set(key, [compiled]);
    }
  }
  return {
    size: rules.length,
    match(trace) {
      const listed = byOperation.get(operationKey(trace.serviceType, trace.resourceType, trace.traceName));
      const out: CompiledRule[] = [];
      for (const rule of everyOperation) if (rule.matches(trace)) out.push(rule);
      if (listed) for (const rule of listed) if (rule.matches(trace)) out.push(rule);
      return out;
    },
  };
}
