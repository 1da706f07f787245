#include "sim/cluster/recorded_client.h"

namespace lockstep::sim {

template <typename Request>
CallResult RecordedClient::recorded(const Request& request) {
  const size_t handle = recorder_.invoke(history_id_, world_.now(), to_checker_request(request));
  CallResult result = client_.call(node::ClientRequestBody(request));
  switch (result.outcome) {
    case CallOutcome::kOk: {
      using Response = std::conditional_t<
          std::is_same_v<Request, mvcc::RangeRequest>, mvcc::RangeResponse,
          std::conditional_t<std::is_same_v<Request, mvcc::PutRequest>, mvcc::PutResponse,
                             std::conditional_t<std::is_same_v<Request, mvcc::DeleteRangeRequest>,
                                                mvcc::DeleteRangeResponse, mvcc::TxnResponse>>>;
      recorder_.complete(handle, world_.now(),
                         to_checker_response(result.as<Response>(), recorder_.recording()));
      break;
    }
    case CallOutcome::kFailed:
      recorder_.fail(handle);
      break;
    case CallOutcome::kIndeterminate:
      recorder_.indeterminate(handle, world_.now());
      history_id_ += kHistoryIdStride;
      break;
  }
  return result;
}

template CallResult RecordedClient::recorded(const mvcc::RangeRequest&);
template CallResult RecordedClient::recorded(const mvcc::PutRequest&);
template CallResult RecordedClient::recorded(const mvcc::DeleteRangeRequest&);
template CallResult RecordedClient::recorded(const mvcc::TxnRequest&);

std::optional<std::optional<mvcc::KeyValue>> RecordedClient::get(const std::string& key) {
  mvcc::RangeRequest request;
  request.key = key;
  CallResult result = range(request);
  if (!result.ok()) return std::nullopt;
  const auto& response = result.as<mvcc::RangeResponse>();
  if (response.kvs.empty()) return std::optional<mvcc::KeyValue>();
  return std::optional<mvcc::KeyValue>(response.kvs.front());
}

}  // namespace lockstep::sim
