// The service's view of the chain: one provider, the bound contracts, the registrar's
// transaction queue, and a queue per custodial party's key.
import { JsonRpcProvider, Wallet } from "ethers";
import type { Db } from "../store/database.js";
import type { Logger } from "../logging.js";
import { bindContracts, type Deployment, type TierlineContracts } from "./contracts.js";
import { TxSender } from "./tx-sender.js";

export class ChainClient {
  readonly contracts: TierlineContracts;
  readonly registrar: TxSender;
  readonly #senders = new Map<string, TxSender>();

  constructor(
    readonly provider: JsonRpcProvider,
    readonly deployment: Deployment,
    registrarKey: string,
    private readonly db: Db,
    private readonly log: Logger,
  ) {
    this.contracts = bindContracts(deployment.addresses, provider);
    this.registrar = this.senderFor(new Wallet(registrarKey, provider));
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

export function createProvider(rpcUrl: string): JsonRpcProvider {
  // staticNetwork: no chain-id probe per call; a short polling interval suits a local chain.
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: false, pollingInterval: 100, cacheTimeout: -1 });
  return provider;
}
