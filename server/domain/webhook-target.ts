// Where a webhook may go: a public address, never this machine, a private network or a cloud
// metadata service (a party's endpoint would otherwise make the service probe and POST to
// them for it: server-side request forgery). An operator whose receivers sit on a network it
// trusts allows them with TIERLINE_WEBHOOK_PRIVATE_TARGETS=allow. Checked when an endpoint is
// registered (a clear refusal) and again at every connection, on the address actually dialled:
// a name may resolve elsewhere by then (DNS rebinding).
import { lookup, type LookupAddress, type LookupOptions } from "node:dns";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";
import { Agent } from "undici";

/** Whether `address` (an IP literal) is a public unicast address. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  // ::ffff:127.0.0.1 is 127.0.0.1.
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return parsed.range() === "unicast";
}

/** The host of `url` as the resolver sees it ([::1] is ::1). */
const hostOf = (url: string): string => new URL(url).hostname.replace(/^\[(.*)\]$/, "$1");

/** Why `url` may not receive webhooks when its host is an IP literal (no lookup to check), or undefined. */
export function refusedAddressLiteral(url: string): string | undefined {
  const host = hostOf(url);
  return isIP(host) && !isPublicAddress(host) ? `${host} is not a public address` : undefined;
}

/** Why `url`'s host may not receive webhooks, or undefined; a name is resolved (all its addresses). */
export async function refusedWebhookTarget(url: string): Promise<string | undefined> {
  const host = hostOf(url);
  const addresses = isIP(host)
    ? [host]
    : await new Promise<string[]>((resolve) =>
        // A name that does not resolve now may later: the connection checks it then.
        lookup(host, { all: true }, (error, found) => resolve(error ? [] : found.map((a) => a.address))),
      );
  const refused = addresses.find((address) => !isPublicAddress(address));
  if (refused === undefined) return undefined;
  return refused === host ? `${host} is not a public address` : `${host} is ${refused}, not a public address`;
}

/**
 * The dispatcher webhook deliveries connect through: every address a name resolves to must be
 * public (an IP literal in the URL is checked by refusedWebhookTarget before the send).
 */
export function publicOnlyAgent(): Agent {
  return new Agent({
    connect: {
      lookup(
        hostname: string,
        options: LookupOptions,
        callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void,
      ) {
        lookup(hostname, { ...options, all: true }, (error, found) => {
          if (error) return callback(error, "");
          const refused = found.find((a) => !isPublicAddress(a.address));
          if (refused)
            return callback(new Error(`refused: ${hostname} is ${refused.address}, not a public address`), "");
          if (options.all) return callback(null, found);
          callback(null, found[0]!.address, found[0]!.family);
        });
      },
    },
  });
}
