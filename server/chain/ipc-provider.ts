// ethers' JsonRpcProvider over the embedded chain's socket (`ipc://<path>`). Sending through a
// FetchRequest (getUrlFunc) made every answer go JSON text -> object -> text -> bytes -> text
// (ethers' UTF-8 decoder, in JavaScript) -> object: the largest single cost of reading the chain
// in the registration bench's profile (issue 12). Here the socket's parsed answer is the result.
import { JsonRpcProvider, type JsonRpcApiProviderOptions, type JsonRpcPayload, type JsonRpcResult } from "ethers";
import { ipcRequest, type RpcMessage } from "./ipc-transport.js";

export class IpcJsonRpcProvider extends JsonRpcProvider {
  constructor(
    private readonly ipcUrl: string,
    private readonly timeoutMs: number,
    options: JsonRpcApiProviderOptions,
  ) {
    // The URL is never fetched: _send below is the only way out.
    super(ipcUrl, undefined, options);
  }

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const answer = await ipcRequest(this.ipcUrl, payload as unknown as RpcMessage | RpcMessage[], this.timeoutMs);
    return (Array.isArray(answer) ? answer : [answer]) as JsonRpcResult[];
  }
}
