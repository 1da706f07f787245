#pragma once

#include <memory>
#include <utility>

#include "server/api/admin_api.h"
#include "server/api/grpc_services.h"
#include "server/api/unary_call.h"

namespace lockstep::api {

// Serves one unary admin method whose answer is already in etcd's message type:
// `ask(request, done)` passes the call to the AdminApi, and the call is answered from `done`
// with the response or etcd's status for the error.
template <typename Service, typename Owner, typename Request, typename Response, typename Ask>
void serve_admin_calls(CallQueue& calls, Service& service,
                       RequestUnaryCall<Owner, Request, Response> method, Ask ask) {
  serve_unary_calls(calls, service, method,
                    [ask](std::shared_ptr<UnaryCall<Request, Response>> call) {
                      ask(call->request(), [call](Result<Response> result) {
                        if (!result.is_ok()) return call->fail(to_grpc_status(result.error()));
                        call->finish(std::move(result).value());
                      });
                    });
}

}  // namespace lockstep::api
