#include "server/api/lock_service.h"

#include "server/api/proto_convert.h"
#include "server/api/queued_key_call.h"

namespace lockstep::api {

grpc::ServerUnaryReactor* LockService::Lock(grpc::CallbackServerContext*,
                                            const v3lockpb::LockRequest* request,
                                            v3lockpb::LockResponse* response) {
  LeasedKeyQueue::Options options;
  options.prefix = request->name() + "/";
  options.lease = LeaseId(request->lease());
  return new QueuedKeyCall(api_, std::move(options), [response](const QueuedKey& held) {
    *response->mutable_header() = to_proto(held.header);
    response->set_key(held.key);
  });
}

grpc::ServerUnaryReactor* LockService::Unlock(grpc::CallbackServerContext* context,
                                              const v3lockpb::UnlockRequest* request,
                                              v3lockpb::UnlockResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  api_.delete_range(mvcc::DeleteRangeRequest{request->key()},
                    [reactor, response](Result<mvcc::DeleteRangeResponse> deleted) {
                      if (!deleted.is_ok())
                        return reactor->Finish(to_concurrency_status(deleted.error()));
                      *response->mutable_header() = to_proto(deleted->header);
                      reactor->Finish(grpc::Status::OK);
                    });
  return reactor;
}

}  // namespace lockstep::api
