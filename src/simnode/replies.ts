/**
 * Replies the simulated node never reads. A pods/status PATCH and a pod DELETE answer with the whole Pod, and
 * client-node parses every successful reply and deserializes it into a typed model (V1Pod); at 1000 pods that work and
 * its garbage were the largest part of the controller's CPU time (BENCHMARKS.md, "Simulated node"). This response
 * middleware reads a successful reply's body off the connection, so the keep-alive socket is free for the next call,
 * and hands client-node `{}` to deserialize instead. A failed reply passes unchanged: its Status message is what the
 * error carries.
 */
import type { ResponseContext } from '@kubernetes/client-node';

type ClientNode = typeof import('@kubernetes/client-node');

/** What a discarded body reads as: an empty JSON object. */
const EMPTY_BODY = { text: async () => '{}', binary: async () => Buffer.alloc(0) };

/** A post-response step for client-node's Observable middleware (ConfigurationOptions.middleware[].post). */
export function successBodyDiscarded(client: Pick<ClientNode, 'Observable' | 'ResponseContext'>) {
  return (response: ResponseContext) => {
    if (response.httpStatusCode < 200 || response.httpStatusCode > 299) return new client.Observable(Promise.resolve(response));
    const drained = response.body.binary().then(() => new client.ResponseContext(response.httpStatusCode, response.headers, EMPTY_BODY));
    return new client.Observable(drained);
  };
}
