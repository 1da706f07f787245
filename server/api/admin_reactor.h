#pragma once

#include <grpcpp/grpcpp.h>

#include "server/api/admin_api.h"
#include "server/api/grpc_services.h"

namespace lockstep::api {

// A unary admin call whose answer is already in etcd's message type: finishes the reactor
// from the AdminApi's completion with the response or etcd's status for the error.
template <typename Response>
Completion<Response> finish_into(grpc::ServerUnaryReactor* reactor, Response* response) {
  return [reactor, response](Result<Response> result) {
    if (!result.is_ok()) {
      reactor->Finish(to_grpc_status(result.error()));
      return;
    }
    *response = std::move(result).value();
    reactor->Finish(grpc::Status::OK);
  };
}

}  // namespace lockstep::api
