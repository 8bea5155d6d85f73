import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, IsNull, Repository } from 'typeorm';
import { RulesMembership, RulesService } from '@bulkhead/rules';
import { User } from '../entities';
import { ROLES, type Role } from '../policy/sample.policy';
import type { MemberView } from './member.dto';

const rank = (role: string) => {
  const i = ROLES.indexOf(role as Role);
  return i < 0 ? ROLES.length : i;
};

/** The tenant's members, kept in the rules membership store (so a change is enforced on the next request). */
@Injectable()
export class MembersService {
  constructor(
    @InjectRepository(RulesMembership) private readonly memberships: Repository<RulesMembership>,
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly rules: RulesService,
  ) {}

  async list(): Promise<MemberView[]> {
    // scoped to the request's tenant like any other tenant-aware entity
    const rows = await this.memberships.find({ where: { resourceType: IsNull() } });
    const best = new Map<string, Role>();
    for (const r of rows) {
      const held = best.get(r.principalId);
      if (!held || rank(r.role) < rank(held)) best.set(r.principalId, r.role as Role);
    }
    const users = best.size ? await this.users.findBy({ id: In([...best.keys()]) }) : [];
    return users
      .map((u) => ({ userId: u.id, email: u.email, name: u.name, role: best.get(u.id)! }))
      .sort((a, b) => rank(a.role) - rank(b.role) || a.email.localeCompare(b.email));
  }

  /** Gives the user exactly this role in the tenant (adding them when they are not a member yet). */
  async setRole(userId: string, role: Role): Promise<MemberView> {
    const user = /^[0-9a-f-]{36}$/i.test(userId) ? await this.users.findOneBy({ id: userId }) : null;
    if (!user) throw new NotFoundException('No such user.');
    const held = (await this.rules.membershipsOf(userId)).filter((m) => !m.resource).map((m) => m.role);
    if (held.includes('owner') && role !== 'owner') {
      const owners = await this.memberships.count({ where: { role: 'owner', resourceType: IsNull() } });
      if (owners <= 1) throw new ConflictException('A tenant keeps at least one owner.');
    }
    // revoke first: while the change is under way the user holds less, never more
    for (const old of held) if (old !== role) await this.rules.revoke(userId, old);
    if (!held.includes(role)) await this.rules.grant(userId, role);
    return { userId: user.id, email: user.email, name: user.name, role };
  }
}
