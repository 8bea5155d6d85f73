import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { RequirePermission } from '@bulkhead/rules';
import { MemberView, SetRoleDto } from './member.dto';
import { MembersService } from './members.service';

@ApiTags('members')
@ApiBearerAuth()
@ApiForbiddenResponse({ description: 'Admins and owners list members; owners change roles.' })
@Controller('members')
export class MembersController {
  constructor(private readonly members: MembersService) {}

  @Get()
  @RequirePermission('member:read')
  @ApiOkResponse({ type: [MemberView] })
  list(): Promise<MemberView[]> {
    return this.members.list();
  }

  /** Sets the user's role in the tenant; enforced on the very next request, in every app instance. */
  @Put(':userId')
  @RequirePermission('member:manage')
  @ApiOkResponse({ type: MemberView })
  @ApiNotFoundResponse({ description: 'No such user.' })
  @ApiConflictResponse({ description: 'The tenant would be left without an owner.' })
  setRole(@Param('userId') userId: string, @Body() body: SetRoleDto): Promise<MemberView> {
    return this.members.setRole(userId, body.role);
  }
}
