#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/error.h"
#include "core/base/ids.h"
#include "core/mvcc/apply_request.h"

namespace lockstep::node {

// Who proposed an entry, so that the proposing member can answer the client waiting for it
// once the entry is applied (etcd's InternalRaftRequest header id). `proposal_id` carries a
// per-incarnation random prefix, so an entry proposed before a crash can never be mistaken
// for a proposal made after the restart.
struct ProposalTag {
  NodeId proposer;
  uint64_t proposal_id = 0;  // 0: nobody waits (e.g. the leader's own lease revokes)

  bool operator==(const ProposalTag&) const = default;
};

// The data of a normal Raft entry: version byte, tag, then the request.
inline constexpr uint8_t kEntryPayloadVersion = 1;

struct EntryPayload {
  ProposalTag tag;
  mvcc::ApplyRequest request;
};

std::string encode_entry_payload(const EntryPayload& payload);
Result<EntryPayload> decode_entry_payload(std::string_view bytes);

// The context of a ConfChange entry: the tag only (Raft carries the change itself).
std::string encode_proposal_tag(const ProposalTag& tag);
Result<ProposalTag> decode_proposal_tag(std::string_view bytes);

// The context of a member-add ConfChange: the tag, then the host's attributes of the new
// member (MemberAddRequest::attributes). Without attributes the bytes equal
// encode_proposal_tag's, so decode_proposal_tag reads a plain tag context too.
struct ConfChangeContext {
  ProposalTag tag;
  std::string attributes;
};
std::string encode_conf_change_context(const ConfChangeContext& context);
Result<ConfChangeContext> decode_conf_change_context(std::string_view bytes);

}  // namespace lockstep::node
