import { RulesConditionSyntaxError } from '../errors/rules.errors';

/**
 * A small, safe condition language, parsed and compiled once (never `eval` or `new Function`):
 *
 * - paths: `principal.<attr>`, `resource.<attr>`, `context.<attr>` (nested attributes with more dots)
 * - literals: numbers, `'strings'` or `"strings"`, `true`, `false`, `null`, lists `['a', 'b']`
 * - comparisons: `==`, `!=`, `<`, `<=`, `>`, `>=`, `in` (membership in a list)
 * - logic: `&&` / `and`, `||` / `or`, `!` / `not`, parentheses
 *
 * A missing attribute is `null`. Ordering comparisons involving `null` are false; `==` is true only when both
 * sides are null or equal (a number and a numeric string compare as numbers); a bare path is true only when
 * its value is boolean `true`.
 */
export type ConditionRoot = 'principal' | 'resource' | 'context';

/** A comparison operator of the condition language. */
export type ConditionOperator = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in';

type Scalar = string | number | boolean | null;

/** Parsed condition tree. @internal */
export type ConditionNode =
  | { readonly kind: 'literal'; readonly value: Scalar | readonly Scalar[] }
  | { readonly kind: 'path'; readonly root: ConditionRoot; readonly path: readonly string[] }
  | { readonly kind: 'not'; readonly operand: ConditionNode }
  | { readonly kind: 'and' | 'or'; readonly left: ConditionNode; readonly right: ConditionNode }
  | {
      readonly kind: 'compare';
      readonly op: ConditionOperator;
      readonly left: ConditionNode;
      readonly right: ConditionNode;
    };

/** Compiled form of a condition: the predicate plus the tree (kept for SQL generation). @internal */
export interface CompiledCondition {
  readonly source: string;
  readonly node: ConditionNode;
  readonly test: ConditionPredicate;
  /** Whether the condition reads `resource.*` at all. */
  readonly usesResource: boolean;
}

/** Evaluates a compiled condition. @internal */
export type ConditionPredicate = (principal: unknown, resource: unknown, context: unknown) => boolean;

type Getter = (principal: unknown, resource: unknown, context: unknown) => unknown;

interface Token {
  readonly type: 'num' | 'str' | 'ident' | 'op' | 'end';
  readonly value: string;
  readonly pos: number;
}

const OPERATORS = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '!', '(', ')', '[', ']', ',', '.'];
const ROOTS: readonly string[] = ['principal', 'resource', 'context'];

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const prev = tokens[tokens.length - 1];
    const operandExpected =
      !prev || (prev.type === 'op' && prev.value !== ')' && prev.value !== ']' && prev.value !== '.');
    if (/[0-9]/.test(ch) || (ch === '-' && operandExpected && /[0-9]/.test(src[i + 1] ?? ''))) {
      const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(src.slice(i));
      tokens.push({ type: 'num', value: m![0], pos: i });
      i += m![0].length;
      continue;
    }
    if (ch === "'" || ch === '"') {
      let j = i + 1;
      let out = '';
      while (j < src.length && src[j] !== ch) {
        if (src[j] === '\\' && j + 1 < src.length) {
          out += src[j + 1];
          j += 2;
        } else out += src[j++];
      }
      if (j >= src.length) throw new RulesConditionSyntaxError(src, i, 'unterminated string');
      tokens.push({ type: 'str', value: out, pos: i });
      i = j + 1;
      continue;
    }
    if (/[A-Za-z_$]/.test(ch)) {
      const m = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(src.slice(i));
      tokens.push({ type: 'ident', value: m![0], pos: i });
      i += m![0].length;
      continue;
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (!op) throw new RulesConditionSyntaxError(src, i, `unexpected character "${ch}"`);
    tokens.push({ type: 'op', value: op, pos: i });
    i += op.length;
  }
  tokens.push({ type: 'end', value: '', pos: src.length });
  return tokens;
}

class Parser {
  private i = 0;
  constructor(
    private readonly src: string,
    private readonly tokens: Token[],
  ) {}

  parse(): ConditionNode {
    if (this.peek().type === 'end') this.fail('empty condition');
    const node = this.or();
    if (this.peek().type !== 'end') this.fail(`unexpected "${this.peek().value}"`);
    return node;
  }

  private peek(): Token {
    return this.tokens[this.i];
  }
  private next(): Token {
    return this.tokens[this.i++];
  }
  private fail(detail: string): never {
    throw new RulesConditionSyntaxError(this.src, this.peek().pos, detail);
  }
  private isOp(value: string): boolean {
    const t = this.peek();
    return t.type === 'op' && t.value === value;
  }
  private isWord(value: string): boolean {
    const t = this.peek();
    return t.type === 'ident' && t.value === value;
  }
  private expect(value: string): void {
    if (!this.isOp(value)) this.fail(`expected "${value}"`);
    this.i++;
  }

  private or(): ConditionNode {
    let left = this.and();
    while (this.isOp('||') || this.isWord('or')) {
      this.i++;
      left = { kind: 'or', left, right: this.and() };
    }
    return left;
  }
  private and(): ConditionNode {
    let left = this.not();
    while (this.isOp('&&') || this.isWord('and')) {
      this.i++;
      left = { kind: 'and', left, right: this.not() };
    }
    return left;
  }
  private not(): ConditionNode {
    if (this.isOp('!') || this.isWord('not')) {
      this.i++;
      return { kind: 'not', operand: this.not() };
    }
    return this.compare();
  }
  private compare(): ConditionNode {
    const left = this.operand();
    const t = this.peek();
    let op: ConditionOperator | undefined;
    if (t.type === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.value))
      op = t.value as ConditionOperator;
    else if (t.type === 'ident' && t.value === 'in') op = 'in';
    if (!op) {
      if (left.kind === 'literal' && left.value !== true && left.value !== false) {
        this.fail('a literal alone is not a condition');
      }
      return left;
    }
    this.i++;
    const right = this.operand();
    if (op === 'in' && !(right.kind === 'path' || (right.kind === 'literal' && Array.isArray(right.value)))) {
      this.fail('"in" needs a list literal or a path on its right');
    }
    return { kind: 'compare', op, left, right };
  }
  private operand(): ConditionNode {
    const t = this.next();
    if (t.type === 'num') return { kind: 'literal', value: Number(t.value) };
    if (t.type === 'str') return { kind: 'literal', value: t.value };
    if (t.type === 'op' && t.value === '(') {
      const inner = this.or();
      this.expect(')');
      return inner;
    }
    if (t.type === 'op' && t.value === '[') {
      const items: Scalar[] = [];
      while (!this.isOp(']')) {
        const item = this.operand();
        if (item.kind !== 'literal' || Array.isArray(item.value)) this.fail('lists hold literals only');
        items.push(item.value as Scalar);
        if (!this.isOp(']')) this.expect(',');
      }
      this.i++;
      return { kind: 'literal', value: items };
    }
    if (t.type === 'ident') {
      if (t.value === 'true') return { kind: 'literal', value: true };
      if (t.value === 'false') return { kind: 'literal', value: false };
      if (t.value === 'null') return { kind: 'literal', value: null };
      if (!ROOTS.includes(t.value)) {
        this.i--;
        this.fail(`unknown name "${t.value}" (paths start with principal., resource. or context.)`);
      }
      const path: string[] = [];
      while (this.isOp('.')) {
        this.i++;
        const part = this.next();
        if (part.type !== 'ident') {
          this.i--;
          this.fail('expected an attribute name after "."');
        }
        path.push(part.value);
      }
      if (path.length === 0) {
        this.i--;
        this.fail(`"${t.value}" needs an attribute, e.g. ${t.value}.id`);
      }
      return { kind: 'path', root: t.value as ConditionRoot, path };
    }
    this.i--;
    return this.fail(t.type === 'end' ? 'unexpected end of condition' : `unexpected "${t.value}"`);
  }
}

/** Parses a condition. Throws `RulesConditionSyntaxError` naming the position. @internal */
export function parseCondition(source: string): ConditionNode {
  if (typeof source !== 'string') throw new RulesConditionSyntaxError(String(source), 0, 'not a string');
  return new Parser(source, tokenize(source)).parse();
}

/** Normalises a value for comparison: numeric strings compared with numbers become numbers. @internal */
function pair(a: unknown, b: unknown): [unknown, unknown] {
  if (typeof a === 'number' && typeof b === 'string' && b.trim() !== '' && !Number.isNaN(Number(b)))
    return [a, Number(b)];
  if (typeof b === 'number' && typeof a === 'string' && a.trim() !== '' && !Number.isNaN(Number(a)))
    return [Number(a), b];
  if (typeof a === 'bigint') return pair(Number(a), b);
  if (typeof b === 'bigint') return pair(a, Number(b));
  if (a instanceof Date) return pair(a.getTime(), b instanceof Date ? b.getTime() : b);
  return [a, b];
}

/** Equality of the condition language. @internal */
export function conditionEquals(a: unknown, b: unknown): boolean {
  if (a === null || a === undefined || b === null || b === undefined) {
    return (a === null || a === undefined) && (b === null || b === undefined);
  }
  const [x, y] = pair(a, b);
  return x === y;
}

function order(op: ConditionOperator, a: unknown, b: unknown): boolean {
  if (a === null || a === undefined || b === null || b === undefined) return false;
  const [x, y] = pair(a, b);
  if (typeof x !== typeof y || (typeof x !== 'number' && typeof x !== 'string')) return false;
  const l = x as number | string;
  const r = y as number | string;
  switch (op) {
    case '<':
      return l < r;
    case '<=':
      return l <= r;
    case '>':
      return l > r;
    default:
      return l >= r;
  }
}

function getter(node: ConditionNode): Getter {
  if (node.kind === 'literal') {
    const v = node.value;
    return () => v;
  }
  if (node.kind === 'path') {
    const path = node.path;
    const pick = (root: unknown): unknown => {
      let v = root;
      for (const key of path) {
        if (v === null || v === undefined || typeof v !== 'object') return null;
        v =
          Object.prototype.hasOwnProperty.call(v, key) || key in (v as object)
            ? (v as Record<string, unknown>)[key]
            : null;
      }
      return v ?? null;
    };
    if (node.root === 'principal') return (p) => pick(p);
    if (node.root === 'resource') return (_p, r) => pick(r);
    return (_p, _r, c) => pick(c);
  }
  const test = predicate(node);
  return (p, r, c) => test(p, r, c);
}

function predicate(node: ConditionNode): ConditionPredicate {
  switch (node.kind) {
    case 'literal':
      return node.value === true ? () => true : () => false;
    case 'path': {
      const get = getter(node);
      return (p, r, c) => get(p, r, c) === true;
    }
    case 'not': {
      const inner = predicate(node.operand);
      return (p, r, c) => !inner(p, r, c);
    }
    case 'and': {
      const l = predicate(node.left);
      const r = predicate(node.right);
      return (p, res, c) => l(p, res, c) && r(p, res, c);
    }
    case 'or': {
      const l = predicate(node.left);
      const r = predicate(node.right);
      return (p, res, c) => l(p, res, c) || r(p, res, c);
    }
    case 'compare': {
      const l = getter(node.left);
      const r = getter(node.right);
      switch (node.op) {
        case '==':
          return (p, res, c) => conditionEquals(l(p, res, c), r(p, res, c));
        case '!=':
          return (p, res, c) => !conditionEquals(l(p, res, c), r(p, res, c));
        case 'in':
          return (p, res, c) => {
            const list = r(p, res, c);
            if (!Array.isArray(list)) return false;
            const v = l(p, res, c);
            if (v === null || v === undefined) return false;
            return list.some((item) => conditionEquals(v, item));
          };
        default: {
          const op = node.op;
          return (p, res, c) => order(op, l(p, res, c), r(p, res, c));
        }
      }
    }
  }
}

/** Whether a tree reads the given root. @internal */
export function conditionUses(node: ConditionNode, root: ConditionRoot): boolean {
  switch (node.kind) {
    case 'literal':
      return false;
    case 'path':
      return node.root === root;
    case 'not':
      return conditionUses(node.operand, root);
    default:
      return conditionUses(node.left, root) || conditionUses(node.right, root);
  }
}

/** Parses and compiles a condition once. Throws `RulesConditionSyntaxError` when it is malformed. @internal */
export function compileCondition(source: string): CompiledCondition {
  const node = parseCondition(source);
  return { source, node, test: predicate(node), usesResource: conditionUses(node, 'resource') };
}

/** Evaluates a tree that does not read `resource.*` (principal/context only) to a value. @internal */
export function evaluateConstant(node: ConditionNode, principal: unknown, context: unknown): unknown {
  return getter(node)(principal, null, context);
}
