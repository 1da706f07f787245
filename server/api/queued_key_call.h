#pragma once

#include <memory>
#include <utility>

#include "server/api/grpc_services.h"
#include "server/api/leased_key_queue.h"
#include "server/api/unary_call.h"

namespace lockstep::api {

// Answers a unary call that waits in a LeasedKeyQueue (Lock, Campaign) from the queue's
// answer, `fill(held, response)` writing the held key into the response; a cancelled call
// (client deadline, disconnect) cancels the wait. The call must be served with
// watch_cancellation (serve_unary_calls).
template <typename Request, typename Response, typename Fill>
void answer_when_held(const std::shared_ptr<UnaryCall<Request, Response>>& call, ClientApi& api,
                      LeasedKeyQueue::Options options, Fill fill) {
  std::shared_ptr<LeasedKeyQueue> queue = LeasedKeyQueue::start(
      api, std::move(options), [call, fill = std::move(fill)](Result<QueuedKey> result) {
        if (!result.is_ok()) return call->fail(to_concurrency_status(result.error()));
        Response response;
        fill(*result, response);
        call->finish(std::move(response));
      });
  // Held by the call until it is answered or cancelled, whichever comes first.
  call->on_cancel([queue] { queue->cancel(); });
}

}  // namespace lockstep::api
