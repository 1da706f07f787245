#include "server/api/lock_service.h"

#include "server/api/proto_convert.h"
#include "server/api/queued_key_call.h"
#include "server/api/unary_call.h"

namespace lockstep::api {

void LockService::serve(CallQueue& calls) {
  using Service = v3lockpb::Lock::AsyncService;
  serve_unary_calls(
      calls, service_, &Service::RequestLock,
      [this](std::shared_ptr<UnaryCall<v3lockpb::LockRequest, v3lockpb::LockResponse>> call) {
        LeasedKeyQueue::Options options;
        options.prefix = call->request().name() + "/";
        options.lease = LeaseId(call->request().lease());
        answer_when_held(call, api_, std::move(options),
                         [](const QueuedKey& held, v3lockpb::LockResponse& response) {
                           *response.mutable_header() = to_proto(held.header);
                           response.set_key(held.key);
                         });
      },
      /*watch_cancellation=*/true);
  serve_unary_calls(
      calls, service_, &Service::RequestUnlock,
      [this](std::shared_ptr<UnaryCall<v3lockpb::UnlockRequest, v3lockpb::UnlockResponse>> call) {
        api_.delete_range(mvcc::DeleteRangeRequest{call->request().key()},
                          [call](Result<mvcc::DeleteRangeResponse> deleted) {
                            if (!deleted.is_ok())
                              return call->fail(to_concurrency_status(deleted.error()));
                            v3lockpb::UnlockResponse response;
                            *response.mutable_header() = to_proto(deleted->header);
                            call->finish(std::move(response));
                          });
      });
}

}  // namespace lockstep::api
