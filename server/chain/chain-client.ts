// The service's view of the chain: one provider, the bound contracts, a transaction queue per
// hot operator key (registrar, keeper, party manager: each only its own duty), the attester's
// signing key, and a queue per custodial party's key.
import { FetchRequest, JsonRpcProvider, Wallet } from "ethers";
import type { Db } from "../store/database.js";
import type { Logger } from "../logging.js";
import { bindContracts, type Deployment, type TierlineContracts } from "./contracts.js";
import { TxSender } from "./tx-sender.js";
import { registerAlone, RegistrationBatcher, type BatcherOptions } from "./registration-batcher.js";
import { isIpcUrl } from "./ipc-transport.js";
import { IpcJsonRpcProvider } from "./ipc-provider.js";

/** The hot keys the service holds (private keys, hex). */
export interface ServiceKeys {
  registrar: string;
  keeper: string;
  partyManager: string;
  attester: string;
}

export class ChainClient {
  readonly contracts: TierlineContracts;
  /** REGISTRAR_ROLE: registrations, early-payment rates; also the local token's minter. */
  readonly registrar: TxSender;
  /** No role at all: pays the gas of permissionless upkeep (overdue, default, settle, dust). */
  readonly keeper: TxSender;
  /** PARTY_MANAGER_ROLE: registers and suspends parties. */
  readonly partyManager: TxSender;
  /** ATTESTER_ROLE on the market: signs risk attestations, never sends a transaction. */
  readonly attester: Wallet;
  /** Registrations many per transaction on the registrar's queue; absent when configured single. */
  readonly registrations: RegistrationBatcher | undefined;
  readonly #senders = new Map<string, TxSender>();

  constructor(
    readonly provider: JsonRpcProvider,
    readonly deployment: Deployment,
    keys: ServiceKeys,
    private readonly db: Db,
    private readonly log: Logger,
    batching?: BatcherOptions,
  ) {
    this.contracts = bindContracts(deployment.addresses, provider);
    this.registrar = this.senderFor(new Wallet(keys.registrar, provider));
    this.keeper = this.senderFor(new Wallet(keys.keeper, provider));
    this.partyManager = this.senderFor(new Wallet(keys.partyManager, provider));
    this.attester = new Wallet(keys.attester);
    const registrar = this.registrar;
    const registry = this.contracts.registry;
    this.registrations = batching
      ? new RegistrationBatcher(registrar, registry, log.child({ component: "registrations" }), batching, (request) =>
          registerAlone(registrar, registry, request),
        )
      : undefined;
  }

  /** The queue for `wallet`'s address: one per signer, whoever asks. */
  senderFor(wallet: Wallet): TxSender {
    const key = wallet.address.toLowerCase();
    let sender = this.#senders.get(key);
    if (!sender) {
      sender = new TxSender(wallet.connect(this.provider), this.db, this.log);
      this.#senders.set(key, sender);
    }
    return sender;
  }
}

/** How long one JSON-RPC call may take before the chain counts as unavailable (503). ethers
 * waits 5 minutes by default, so a node that accepts connections but never answers would
 * hang every request that long. */
export const RPC_TIMEOUT_MS = 5_000;

export function createProvider(rpcUrl: string): JsonRpcProvider {
  // staticNetwork: the chain id is detected once, not probed before every call (it halved
  // the registrar queue's round trips); a short polling interval suits a local chain.
  // batchStallTime 0: ethers still batches the calls made in one tick, but no longer waits
  // 10 ms for more before each send, which was most of a registration's chain time (issue 12).
  const options = { staticNetwork: true, pollingInterval: 100, cacheTimeout: -1, batchStallTime: 0 };
  // The embedded chain's private channel: a socket inside the data directory (ipc://<path>).
  if (isIpcUrl(rpcUrl)) return new IpcJsonRpcProvider(rpcUrl, RPC_TIMEOUT_MS, options);
  const connection = new FetchRequest(rpcUrl);
  connection.timeout = RPC_TIMEOUT_MS;
  return new JsonRpcProvider(connection, undefined, options);
}
