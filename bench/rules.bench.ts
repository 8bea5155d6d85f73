/**
 * Rules benchmark: `runRulesBench({ quick })` returns the figures; bench/run.ts wires it in.
 *
 * - `rules.decision.p50_us` / `p99_us`: `RulesService.can()` (the public async API) with 100 roles (chains of
 *   10 through `includes`) and 1,000 rules (10% deny, 25% with a `resource.amount > N` condition), warm cache,
 *   per-call latency.
 * - The same RBAC policy, without conditions, in casbin (RBAC with domains, deny-override effect),
 *   @casl/ability (inverted rules last, CASL being last-match-wins) and @cedar-policy/cedar-wasm (permit/forbid,
 *   role entities as parents, preparsed policy set); `rules.vs.<peer>` is their mean time per decision divided by
 *   ours on the same decisions at 1,000 rules; `rules.scale.<n>.<engine>_us` the mean at 10 ... 10,000 rules.
 * - `rules.guard.ratio`: autocannon requests/s (16 connections, loopback) of a `@RequirePermission()` endpoint
 *   with the rules guard on vs the same app with `registerGuard: false`; runs interleaved, median ratio.
 */
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createTenancyService, fromHeader, TenancyModule } from '@bulkhead/tenancy';
import {
  RequirePermission,
  RulesModule,
  RulesService,
  type MembershipStore,
  type RuleDefinition,
  type RuleStore,
  type RulesModuleOptions,
} from '@bulkhead/rules';

const ROLES = 100;
const TYPES = 50;
const VERBS = 20;

interface Policy {
  options: RulesModuleOptions;
  rules: RuleDefinition[];
  /** role -> roles it includes */
  includes: Map<string, string[]>;
}

function makePolicy(ruleCount: number, withConditions: boolean): Policy {
  const roles: Record<string, { includes?: string[] }> = {};
  const includes = new Map<string, string[]>();
  for (let i = 0; i < ROLES; i++) {
    const inc = i % 10 === 9 ? [] : [`r${i + 1}`];
    roles[`r${i}`] = inc.length ? { includes: inc } : {};
    includes.set(`r${i}`, inc);
  }
  const permissions: string[] = [];
  for (let t = 0; t < TYPES; t++) for (let v = 0; v < VERBS; v++) permissions.push(`res${t}:act${v}`);
  const rules: RuleDefinition[] = [];
  for (let k = 0; k < ruleCount; k++) {
    rules.push({
      id: `rule${k}`,
      effect: k % 10 === 0 ? 'deny' : 'allow',
      actions: [`res${k % TYPES}:act${Math.floor(k / TYPES) % VERBS}`],
      conditions: withConditions && k % 4 === 1 ? `resource.amount > ${(k % 7) * 1000}` : undefined,
      bind: { type: 'role', role: `r${(k * 7) % ROLES}` },
    });
  }
  return { options: { roles, permissions, rules, cache: true }, rules, includes };
}

/** The principal holds r0 (so r0..r9 through includes) in tenant t1. */
const memberships: MembershipStore = {
  membershipsOf: async (tenantId, principalId) =>
    principalId === 'u1' && tenantId === 't1' ? [{ tenantId, principalId, role: 'r0' }] : [],
};
const noStoredRules: RuleStore = { rulesOf: async () => [] };

function decisions(count: number): { action: string; resource: { id: number; amount: number } }[] {
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  return Array.from({ length: count }, (_, i) => ({
    action: `res${Math.floor(rnd() * TYPES)}:act${Math.floor(rnd() * VERBS)}`,
    resource: { id: i, amount: Math.floor(rnd() * 8000) },
  }));
}

async function ourService(policy: Policy): Promise<RulesService> {
  const tenancy = createTenancyService({ acceptAnyTenant: true });
  const service = new RulesService(
    { ...policy.options, membershipStore: memberships, ruleStore: noStoredRules },
    tenancy,
  );
  await service.onModuleInit();
  return service;
}

type Decide = (d: { action: string; resource: { id: number; amount: number } }) => boolean | Promise<boolean>;

/** Mean microseconds per decision over `rounds` passes on `set` (after one warm-up pass). */
async function meanUs(decide: Decide, set: ReturnType<typeof decisions>, rounds: number): Promise<number> {
  for (const d of set) await decide(d);
  const start = performance.now();
  for (let r = 0; r < rounds; r++) for (const d of set) await decide(d);
  return ((performance.now() - start) * 1000) / (rounds * set.length);
}

async function oursDecide(policy: Policy): Promise<Decide> {
  const service = await ourService(policy);
  const principal = { id: 'u1', type: 'user' };
  const options = { tenantId: 't1' };
  return (d) => service.can(principal, d.action, d.resource, options);
}

async function casbinDecide(policy: Policy): Promise<Decide> {
  const casbin = await import('casbin');
  const model = casbin.newModelFromString(`
[request_definition]
r = sub, dom, obj, act
[policy_definition]
p = sub, dom, obj, act, eft
[role_definition]
g = _, _, _
[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))
[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.obj == p.obj && r.act == p.act
`);
  const enforcer = await casbin.newEnforcer(model);
  for (const rule of policy.rules) {
    const [obj, act] = rule.actions[0].split(':');
    const role = rule.bind?.type === 'role' ? rule.bind.role : '';
    await enforcer.addPolicy(role, 't1', obj, act, rule.effect);
  }
  for (const [role, incs] of policy.includes)
    for (const inc of incs) await enforcer.addGroupingPolicy(role, inc, 't1');
  await enforcer.addGroupingPolicy('u1', 'r0', 't1');
  return (d) => {
    const [obj, act] = d.action.split(':');
    return enforcer.enforceSync('u1', 't1', obj, act);
  };
}

async function caslDecide(policy: Policy): Promise<Decide> {
  const caslPackage = '@casl/ability'; // its types are exports-only (not visible to moduleResolution node10)
  const { createMongoAbility } = (await import(caslPackage)) as {
    createMongoAbility(rules: { action: string; subject: string; inverted: boolean }[]): {
      can(action: string, subject: string): boolean;
    };
  };
  // the principal's roles (r0 and what it includes), then its rules: allows first, inverted (deny) last
  const held = new Set<string>();
  const queue = ['r0'];
  while (queue.length) {
    const r = queue.shift()!;
    if (held.has(r)) continue;
    held.add(r);
    queue.push(...(policy.includes.get(r) ?? []));
  }
  const mine = policy.rules.filter((r) => r.bind?.type === 'role' && held.has(r.bind.role));
  const toCasl = (r: RuleDefinition) => {
    const [subject, action] = r.actions[0].split(':');
    return { action, subject, inverted: r.effect === 'deny' };
  };
  const ability = createMongoAbility([
    ...mine.filter((r) => r.effect === 'allow').map(toCasl),
    ...mine.filter((r) => r.effect === 'deny').map(toCasl),
  ]);
  return (d) => {
    const [subject, action] = d.action.split(':');
    return ability.can(action, subject);
  };
}

async function cedarDecide(policy: Policy): Promise<Decide> {
  const cedar =
    (await import('@cedar-policy/cedar-wasm/nodejs')) as typeof import('@cedar-policy/cedar-wasm/nodejs');
  const text = policy.rules
    .map((r) => {
      const role = r.bind?.type === 'role' ? r.bind.role : '';
      return `@id("${r.id}")\n${r.effect === 'deny' ? 'forbid' : 'permit'}(principal in Role::"${role}", action == Action::"${r.actions[0]}", resource);`;
    })
    .join('\n');
  const id = `bench-${policy.rules.length}-${Math.random()}`;
  const parsed = cedar.preparsePolicySet(id, { staticPolicies: text });
  if (parsed.type !== 'success') throw new Error(`cedar policy parse failed: ${JSON.stringify(parsed)}`);
  const entities = [
    { uid: { type: 'User', id: 'u1' }, attrs: {}, parents: [{ type: 'Role', id: 'r0' }] },
    ...[...policy.includes].map(([role, incs]) => ({
      uid: { type: 'Role', id: role },
      attrs: {},
      parents: incs.map((inc) => ({ type: 'Role', id: inc })),
    })),
  ];
  return (d) => {
    const answer = cedar.statefulIsAuthorized({
      principal: { type: 'User', id: 'u1' },
      action: { type: 'Action', id: d.action },
      resource: { type: d.action.split(':')[0], id: String(d.resource.id) },
      context: {},
      preparsedPolicySetId: id,
      entities,
    });
    if (answer.type !== 'success') throw new Error(`cedar failed: ${JSON.stringify(answer.errors)}`);
    return answer.response.decision === 'allow';
  };
}

const PEERS = { casbin: casbinDecide, casl: caslDecide, cedar: cedarDecide } as const;

/** Checks that a peer decides exactly as we do on the set (so the comparison is of the same policy). */
async function agree(ours: Decide, theirs: Decide, set: ReturnType<typeof decisions>): Promise<number> {
  let mismatches = 0;
  for (const d of set) if ((await ours(d)) !== (await theirs(d))) mismatches++;
  return mismatches;
}

async function guardRatio(quick: boolean): Promise<number> {
  const autocannonPackage = 'autocannon'; // ships no types
  const autocannon = ((await import(autocannonPackage)) as { default: Autocannon }).default;
  const policy = makePolicy(1000, true);
  const start = async (registerGuard: boolean): Promise<INestApplication> => {
    @Controller()
    class BenchController {
      @Get('invoices')
      @RequirePermission('res1:act0')
      list() {
        return { ok: true };
      }
    }
    @Module({
      imports: [
        TenancyModule.forRoot({
          strategies: [fromHeader()],
          acceptAnyTenant: true,
          dataSources: [],
          resolveActor: (req) => ({ id: String(req.headers['x-user']), type: 'user' }),
        }),
        RulesModule.forRoot({
          ...policy.options,
          rules: [...policy.rules, { id: 'open', effect: 'allow', actions: ['res1:act0'] }],
          membershipStore: memberships,
          ruleStore: noStoredRules,
          registerGuard,
        }),
      ],
      controllers: [BenchController],
    })
    class BenchModule {}
    const app = await NestFactory.create(BenchModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    return app;
  };
  const guarded = await start(true);
  const open = await start(false);
  const run = async (app: INestApplication, seconds: number) => {
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const result = await autocannon({
      url: `${url}/invoices`,
      connections: 16,
      duration: seconds,
      headers: { 'x-tenant-id': 't1', 'x-user': 'u1' },
    });
    if (result.non2xx > 0 || result.errors > 0)
      throw new Error(`guard bench: ${result.non2xx} non-2xx responses`);
    return result.requests.average;
  };
  try {
    await run(guarded, 1);
    await run(open, 1);
    const ratios: number[] = [];
    for (let round = 0; round < (quick ? 1 : 3); round++) {
      const a = await run(guarded, quick ? 2 : 4);
      const b = await run(open, quick ? 2 : 4);
      ratios.push(a / b);
    }
    ratios.sort((x, y) => x - y);
    return ratios[Math.floor(ratios.length / 2)];
  } finally {
    await guarded.close();
    await open.close();
  }
}

type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  headers: Record<string, string>;
}) => Promise<{ non2xx: number; errors: number; requests: { average: number } }>;

function round(n: number, digits = 3): number {
  return Number(n.toFixed(digits));
}

/** Runs the rules benchmark and returns its figures (see the file comment). */
export async function runRulesBench(opts: { quick: boolean }): Promise<Record<string, number>> {
  const figures: Record<string, number> = {};
  const set = decisions(opts.quick ? 2000 : 10000);

  // latency distribution of the public async API, 1,000 rules with conditions, warm cache
  {
    const decide = await oursDecide(makePolicy(1000, true));
    for (const d of set) await decide(d);
    const samples: number[] = [];
    for (let r = 0; r < (opts.quick ? 5 : 20); r++) {
      for (const d of set) {
        const t0 = performance.now();
        await decide(d);
        samples.push(performance.now() - t0);
      }
    }
    samples.sort((a, b) => a - b);
    figures['rules.decision.p50_us'] = round(samples[Math.floor(samples.length * 0.5)] * 1000);
    figures['rules.decision.p99_us'] = round(samples[Math.floor(samples.length * 0.99)] * 1000);
  }

  // same RBAC policy (no conditions) in every engine, 10 .. 10,000 rules
  const rounds = (n: number) => Math.max(1, (opts.quick ? 2 : 5) * (n >= 10000 ? 0.4 : 1));
  for (const n of [10, 100, 1000, 10000]) {
    const policy = makePolicy(n, false);
    const ours = await oursDecide(policy);
    const oursUs = await meanUs(ours, set, Math.ceil(rounds(n)));
    figures[`rules.scale.${n}.ours_us`] = round(oursUs);
    for (const [name, build] of Object.entries(PEERS)) {
      let theirs: Decide;
      try {
        theirs = await build(policy);
      } catch (err) {
        process.stderr.write(
          `[rules bench] ${name} could not be loaded or built: ${(err as Error).message}\n`,
        );
        continue;
      }
      const sample = set.slice(0, 500);
      const mismatches = await agree(ours, theirs, sample);
      if (mismatches > 0) {
        process.stderr.write(
          `[rules bench] ${name} disagrees with ours on ${mismatches}/500 decisions at ${n} rules\n`,
        );
        figures[`rules.scale.${n}.${name}_mismatches`] = mismatches;
      }
      const peerSet = name === 'casbin' && n >= 10000 ? set.slice(0, Math.ceil(set.length / 10)) : set;
      const theirsUs = await meanUs(theirs, peerSet, Math.ceil(rounds(n)));
      figures[`rules.scale.${n}.${name}_us`] = round(theirsUs);
      if (n === 1000) figures[`rules.vs.${name}`] = round(theirsUs / oursUs, 2);
    }
  }

  figures['rules.guard.ratio'] = round(await guardRatio(opts.quick));
  return figures;
}

if (require.main === module) {
  runRulesBench({ quick: process.env.BENCH_QUICK === '1' }).then(
    (figures) => {
      // --json (bench/run.ts): one line of JSON last; otherwise readable
      const json = process.argv.includes('--json');
      process.stdout.write(json ? `${JSON.stringify(figures)}\n` : `${JSON.stringify(figures, null, 2)}\n`);
      process.exit(0);
    },
    (err: Error) => {
      process.stderr.write(`${err.stack}\n`);
      process.exit(1);
    },
  );
}
