import { describe, expect, it } from 'vitest';
import { compileRules, type MatchableTrace, type RuleDefinition } from './rules';
import { FilterSchema, parseFilterRule } from './schema';
import { addressScope, parseTopicId, webhookUrlProblem } from './topic-id';

const trace = (overrides: Partial<MatchableTrace> = {}): MatchableTrace => ({
  serviceType: 'ECS',
  resourceType: 'ecs',
  traceName: 'createServer',
  userName: 'alice',
  apiVersion: 'v1.0',
  code: '200',
  traceRating: 'normal',
  traceType: 'ApiCall',
  resourceId: 'srv-1',
  resourceName: 'web 1',
  ...overrides,
});

const rule = (overrides: Partial<RuleDefinition> = {}): RuleDefinition => ({
  id: 'r1',
  name: 'r1',
  operationType: 'customized',
  operations: [{ service_type: 'ECS', resource_type: 'ecs', trace_names: ['createServer', 'deleteServer'] }],
  notifyUserList: [],
  filter: null,
  ...overrides,
});

const filter = (condition: 'AND' | 'OR', ...rules: string[]) =>
  FilterSchema.parse({ is_support_filter: true, condition, rule: rules });

const matchedIds = (rules: RuleDefinition[], t: MatchableTrace) =>
  compileRules(rules)
    .match(t)
    .map((r) => r.id)
    .sort();

describe('rule matching', () => {
  it('customized rules match only their (service, resource type, trace name) triples', () => {
    const rules = [rule()];
    expect(matchedIds(rules, trace())).toEqual(['r1']);
    expect(matchedIds(rules, trace({ traceName: 'deleteServer' }))).toEqual(['r1']);
    expect(matchedIds(rules, trace({ traceName: 'rebootServer' }))).toEqual([]);
    expect(matchedIds(rules, trace({ serviceType: 'EVS' }))).toEqual([]);
    expect(matchedIds(rules, trace({ resourceType: 'evs' }))).toEqual([]);
  });

  it('complete rules match every operation', () => {
    const rules = [rule({ id: 'all', operationType: 'complete', operations: [] })];
    expect(
      matchedIds(rules, trace({ serviceType: 'IAM', resourceType: 'user', traceName: 'login' })),
    ).toEqual(['all']);
  });

  it('a user list restricts matches to the listed user names, across groups', () => {
    const rules = [
      rule({
        notifyUserList: [
          { user_group: 'admin', user_list: ['bob'] },
          { user_group: 'ops', user_list: ['alice'] },
        ],
      }),
    ];
    expect(matchedIds(rules, trace({ userName: 'alice' }))).toEqual(['r1']);
    expect(matchedIds(rules, trace({ userName: 'bob' }))).toEqual(['r1']);
    expect(matchedIds(rules, trace({ userName: 'carol' }))).toEqual([]);
    expect(matchedIds(rules, trace({ userName: null }))).toEqual([]);
  });

  it.each([
    ['api_version = v1.0', {}, true],
    ['api_version = v3', {}, false],
    ['api_version != v3', {}, true],
    ['code = 200', {}, true],
    ['code != 200', {}, false],
    ['code != 200', { code: '500' }, true],
    ['trace_rating = warning', { traceRating: 'warning' }, true],
    ['trace_rating != normal', {}, false],
    ['trace_type = ConsoleAction', {}, false],
    ['trace_type != ApiCall', { traceType: 'SystemAction' }, true],
    ['resource_id = srv-1', {}, true],
    ['resource_id != srv-1', {}, false],
    ['resource_name = web 1', {}, true],
    ['resource_name != web 1', { resourceName: 'web 2' }, true],
    // A missing field equals nothing.
    ['resource_id = srv-1', { resourceId: null }, false],
    ['resource_id != srv-1', { resourceId: null }, true],
  ] as const)('filter %s on %o → %s', (text, overrides, expected) => {
    const rules = [rule({ filter: filter('AND', text) })];
    expect(matchedIds(rules, trace(overrides)).length === 1).toBe(expected);
  });

  it('AND needs every condition, OR any', () => {
    const and = [rule({ filter: filter('AND', 'code != 200', 'trace_rating = warning') })];
    const or = [rule({ filter: filter('OR', 'code != 200', 'trace_rating = warning') })];
    const both = trace({ code: '500', traceRating: 'warning' });
    const one = trace({ code: '500' });
    const none = trace();
    expect([matchedIds(and, both), matchedIds(and, one), matchedIds(and, none)]).toEqual([['r1'], [], []]);
    expect([matchedIds(or, both), matchedIds(or, one), matchedIds(or, none)]).toEqual([['r1'], ['r1'], []]);
  });

  it('a filter that is switched off is ignored', () => {
    const off = FilterSchema.parse({ is_support_filter: false, condition: 'AND', rule: ['code = 404'] });
    expect(matchedIds([rule({ filter: off })], trace())).toEqual(['r1']);
  });

  it('returns every matching rule once, complete and customized together', () => {
    const rules = [
      rule({ id: 'a' }),
      rule({
        id: 'b',
        operations: [
          { service_type: 'ECS', resource_type: 'ecs', trace_names: ['createServer'] },
          { service_type: 'ECS', resource_type: 'ecs', trace_names: ['createServer'] },
        ],
      }),
      rule({ id: 'c', operationType: 'complete', operations: [] }),
      rule({ id: 'd', operationType: 'complete', operations: [], filter: filter('AND', 'code = 500') }),
    ];
    expect(matchedIds(rules, trace())).toEqual(['a', 'b', 'c']);
  });
});

describe('filter rules', () => {
  it('parses "field op value" with any spacing and keeps inner spaces', () => {
    expect(parseFilterRule('code!=200')).toEqual({ field: 'code', op: '!=', value: '200' });
    expect(parseFilterRule('resource_name =  my server ')).toEqual({
      field: 'resource_name',
      op: '=',
      value: 'my server',
    });
    expect(FilterSchema.parse({ is_support_filter: true, rule: ['code!=200'] })).toEqual({
      is_support_filter: true,
      condition: 'AND',
      rule: ['code != 200'],
    });
  });

  it('validates the field and its value', () => {
    expect(parseFilterRule('user = alice')).toMatch(/field must be one of/);
    expect(parseFilterRule('trace_rating = bad')).toMatch(/trace_rating value must be one of/);
    expect(parseFilterRule('trace_type = Console')).toMatch(/trace_type value/);
    expect(parseFilterRule(`resource_id = ${'x'.repeat(351)}`)).toMatch(/1-350/);
    expect(parseFilterRule('api_version = v 1')).toMatch(/api_version value/);
    expect(parseFilterRule('code =')).toMatch(/code value/);
    expect(parseFilterRule('just text')).toMatch(/must have the form/);
  });
});

describe('topic ids and webhook URLs', () => {
  it('accepts http(s) URLs and topic URNs', () => {
    expect(parseTopicId('https://hooks.example.com/a?b=c')).toEqual({
      kind: 'url',
      url: 'https://hooks.example.com/a?b=c',
    });
    expect(parseTopicId('urn:smn:local-1:0123456789abcdef0123456789abcdef:audit_1')).toMatchObject({
      kind: 'urn',
      region: 'local-1',
      name: 'audit_1',
    });
    expect(parseTopicId('ftp://example.com/')).toBeUndefined();
    expect(parseTopicId('urn:smn:local-1:notaproject:x')).toBeUndefined();
  });

  it('refuses credentials, link-local addresses, and (when asked) private ones', () => {
    const open = { allowPrivate: true };
    const strict = { allowPrivate: false };
    expect(webhookUrlProblem('https://user:pw@example.com/', open)).toMatch(/user name or password/);
    expect(webhookUrlProblem('http://169.254.169.254/latest/meta-data', open)).toMatch(/link-local/);
    expect(webhookUrlProblem('http://[fe80::1]/', open)).toMatch(/link-local/);
    expect(webhookUrlProblem('http://127.0.0.1:8080/hook', open)).toBeUndefined();
    expect(webhookUrlProblem('http://127.0.0.1:8080/hook', strict)).toMatch(/loopback or private/);
    expect(webhookUrlProblem('http://10.1.2.3/', strict)).toMatch(/private/);
    expect(webhookUrlProblem('http://[::ffff:192.168.1.1]/', strict)).toMatch(/private/);
    expect(webhookUrlProblem('http://localhost/', strict)).toMatch(/loopback/);
    expect(webhookUrlProblem('https://hooks.example.com/', strict)).toBeUndefined();
    expect(webhookUrlProblem('https://exa mple.com/', open)).toMatch(/spaces/);
    expect(addressScope('8.8.8.8')).toBe('public');
    expect(addressScope('172.20.0.1')).toBe('private');
  });
});
