/**
 * @switchboard/server/jwt — JWT authentication for `createSwitchboard` (`...jwtAuth({ secret })`),
 * on jose, an optional peer dependency: install `jose` to use this entry.
 */
export {
  type AsymmetricAlgorithm,
  type HmacAlgorithm,
  type JwtAuthOptions,
  type JwtData,
  type JwtKeyOptions,
  jwtAuth,
  type TokenSource,
} from './auth/jwt-auth.js'
