// latchkey as the authorization service of Debian's Caddy (forward_auth), with
// contrib/caddy/Caddyfile: the same scenario as through nginx.
import { startCaddy } from './gateway-lib.mjs';
import { gatewayScenario } from './gateway-suite.mjs';

gatewayScenario('Caddy forward_auth in front of an upstream', startCaddy, { rateHeaders: false });
