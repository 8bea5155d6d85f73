import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsString, MaxLength, MinLength } from 'class-validator';

export class LoginDto {
  @ApiProperty({ example: 'alice@acme.test' })
  @IsEmail()
  @MaxLength(254)
  email: string;

  @ApiProperty({ example: 'demo' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  password: string;
}

export class TokenDto {
  @ApiProperty({ description: 'JWT (HS256) with `sub` (user id) and `tid` (the first tenant of the user).' })
  accessToken: string;
}
