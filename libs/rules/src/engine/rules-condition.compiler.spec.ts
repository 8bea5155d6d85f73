import { RulesConditionSyntaxError } from '../errors/rules.errors';
import { compileCondition } from './rules-condition.compiler';

const run = (src: string, principal: object = {}, resource: object | null = {}, context: object = {}) =>
  compileCondition(src).test(principal, resource, context);

describe('rules condition language', () => {
  it.each([
    ['resource.amount > 1000000', { amount: 1000001 }, true],
    ['resource.amount > 1000000', { amount: 1000000 }, false],
    ['resource.amount > 1000000', { amount: '2000000' }, true],
    ['resource.amount > 1000000', { amount: null }, false],
    ['resource.amount >= 10 && resource.amount <= 20', { amount: 10 }, true],
    ['resource.amount < -5', { amount: -6 }, true],
    ["resource.status in ['a', 'b']", { status: 'b' }, true],
    ["resource.status in ['a', 'b']", { status: null }, false],
    ["not (resource.status == 'x') or resource.flag", { status: 'x', flag: true }, true],
    ["!(resource.status == 'x')", { status: 'x' }, false],
    ['resource.deletedAt == null', { deletedAt: null }, true],
    ['resource.deletedAt == null', {}, true],
    ['resource.deletedAt != null', { deletedAt: new Date() }, true],
    ['resource.archived', { archived: 'yes' }, false],
    ['resource.archived', { archived: true }, true],
    ['resource.owner.id == "u1"', { owner: { id: 'u1' } }, true],
    ["resource.title == 'it\\'s'", { title: "it's" }, true],
  ])('%s on %j is %s', (src, resource, expected) => {
    expect(run(src, {}, resource)).toBe(expected);
  });

  it('reads principal and context', () => {
    expect(run('resource.createdBy == principal.id', { id: 'u1' }, { createdBy: 'u1' })).toBe(true);
    expect(run('resource.createdBy == principal.id', { id: 'u2' }, { createdBy: 'u1' })).toBe(false);
    expect(run("context.ip == '1.2.3.4'", {}, null, { ip: '1.2.3.4' })).toBe(true);
    expect(run('principal.id in resource.editors', { id: 'u1' }, { editors: ['u0', 'u1'] })).toBe(true);
  });

  it('is data, never code: property names like constructor and __proto__ are plain attributes', () => {
    expect(run('resource.constructor == null', {}, Object.create(null) as object)).toBe(true);
    expect(run("resource.__proto__ == 'x'", {}, {})).toBe(false);
  });

  it.each([
    ['', 'empty condition'],
    ['resource.amount >', 'unexpected end of condition'],
    ['resource.amount > > 1', 'unexpected ">"'],
    ['amount > 1', 'unknown name "amount"'],
    ['resource > 1', '"resource" needs an attribute'],
    ["resource.a == 'open", 'unterminated string'],
    ['resource.a == 1)', 'unexpected ")"'],
    ['resource.a in 5', '"in" needs a list literal or a path'],
    ['resource.a; process.exit()', 'unexpected character ";"'],
    ['42', 'a literal alone is not a condition'],
  ])('refuses %j (%s)', (src, detail) => {
    expect(() => compileCondition(src)).toThrow(RulesConditionSyntaxError);
    expect(() => compileCondition(src)).toThrow(detail);
  });
});
