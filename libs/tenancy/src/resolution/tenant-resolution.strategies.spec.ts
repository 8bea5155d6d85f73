import { SignJWT } from 'jose';
import { InvalidTenantTokenError } from '../errors/tenancy.errors';
import type { TenancyRequest } from './tenant-resolution.interface';
import { fromCustom, fromHeader, fromHost, fromJwt, fromRouteParam } from './tenant-resolution.strategies';

const request = (over: Partial<TenancyRequest> = {}): TenancyRequest => ({
  headers: {},
  hostname: 'localhost',
  params: {},
  user: undefined,
  raw: {},
  ...over,
});

describe('tenant resolution strategies', () => {
  it('reads a header, splitting lists', async () => {
    expect(await fromHeader().resolve(request({ headers: { 'x-tenant-id': 'acme' } }))).toEqual({
      tenant: ['acme'],
    });
    expect(await fromHeader('X-Org').resolve(request({ headers: { 'x-org': 'a, b' } }))).toEqual({
      tenant: ['a', 'b'],
    });
    expect(await fromHeader().resolve(request())).toBeUndefined();
  });

  it('reads a sub-domain of the base domain, or a pattern', async () => {
    const host = fromHost({ baseDomain: 'app.example.com' });
    expect(await host.resolve(request({ hostname: 'acme.app.example.com' }))).toEqual({ tenant: 'acme' });
    expect(await host.resolve(request({ hostname: 'app.example.com' }))).toBeUndefined();
    expect(await host.resolve(request({ hostname: 'x.acme.app.example.com' }))).toBeUndefined();
    expect(await host.resolve(request({ hostname: 'acme.evil.com' }))).toBeUndefined();
    const pattern = fromHost({ pattern: /^tenant-([a-z]+)\.local$/ });
    expect(await pattern.resolve(request({ hostname: 'tenant-globex.local' }))).toEqual({ tenant: 'globex' });
  });

  it('reads a route parameter and a custom function', async () => {
    expect(await fromRouteParam().resolve(request({ params: { tenantId: 'acme' } }))).toEqual({
      tenant: 'acme',
    });
    expect(await fromRouteParam('org').resolve(request({ params: {} }))).toBeUndefined();
    const custom = fromCustom('cookie', (r) => ({ tenant: String(r.headers['cookie']).split('=')[1] }));
    expect(await custom.resolve(request({ headers: { cookie: 't=globex' } }))).toEqual({ tenant: 'globex' });
  });

  it('verifies a bearer token and reads tenant and actor claims', async () => {
    const secret = 's'.repeat(32);
    const jwt = await new SignJWT({ sub: 'u1', org: ['a', 'b'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('bulkhead-test')
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(secret));
    const strategy = fromJwt({ secret, claim: 'org', issuer: 'bulkhead-test', actorType: 'api_key' });
    const result = await strategy.resolve(request({ headers: { authorization: `Bearer ${jwt}` } }));
    expect(result).toMatchObject({ tenant: ['a', 'b'], actor: { id: 'u1', type: 'api_key' } });
    const wrongIssuer = fromJwt({ secret, claim: 'org', issuer: 'someone-else' });
    await expect(
      wrongIssuer.resolve(request({ headers: { authorization: `Bearer ${jwt}` } })),
    ).rejects.toBeInstanceOf(InvalidTenantTokenError);
    expect(await strategy.resolve(request())).toBeUndefined();
  });

  it('refuses to be configured without a key or with alg none', () => {
    expect(() => fromJwt({})).toThrow('needs a secret');
    expect(() => fromJwt({ secret: 'x', algorithms: ['none'] })).toThrow('never accepts alg "none"');
  });
});
