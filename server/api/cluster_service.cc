#include "server/api/cluster_service.h"

#include "server/api/admin_calls.h"

namespace lockstep::api {

void ClusterService::serve(CallQueue& calls) {
  using Service = etcdserverpb::Cluster::AsyncService;
  serve_admin_calls(
      calls, service_, &Service::RequestMemberAdd,
      [this](const auto& request, auto done) { admin_.member_add(request, std::move(done)); });
  serve_admin_calls(
      calls, service_, &Service::RequestMemberRemove,
      [this](const auto& request, auto done) { admin_.member_remove(request, std::move(done)); });
  serve_admin_calls(calls, service_, &Service::RequestMemberList,
                    [this](const auto&, auto done) { admin_.member_list(std::move(done)); });
  serve_admin_calls(
      calls, service_, &Service::RequestMemberPromote,
      [this](const auto& request, auto done) { admin_.member_promote(request, std::move(done)); });
  serve_admin_calls(
      calls, service_, &Service::RequestMemberUpdate,
      [this](const auto& request, auto done) { admin_.member_update(request, std::move(done)); });
}

}  // namespace lockstep::api
