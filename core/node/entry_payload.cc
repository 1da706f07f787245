#include "core/node/entry_payload.h"

#include "core/node/request_codec.h"

namespace lockstep::node {
namespace {

void encode_tag(WireWriter& out, const ProposalTag& tag) {
  out.u8(kEntryPayloadVersion);
  out.varint(tag.proposer.value());
  out.varint(tag.proposal_id);
}

ProposalTag decode_tag(WireReader& in) {
  ProposalTag tag;
  if (in.u8() != kEntryPayloadVersion) in.fail("unknown entry payload version");
  tag.proposer = NodeId(in.varint());
  tag.proposal_id = in.varint();
  return tag;
}

}  // namespace

std::string encode_entry_payload(const EntryPayload& payload) {
  WireWriter out;
  encode_tag(out, payload.tag);
  encode_variant(out, payload.request);
  return out.take();
}

Result<EntryPayload> decode_entry_payload(std::string_view bytes) {
  WireReader in(bytes);
  EntryPayload payload;
  payload.tag = decode_tag(in);
  decode_variant(in, payload.request);
  RETURN_IF_ERROR(in.finish());
  return payload;
}

std::string encode_proposal_tag(const ProposalTag& tag) {
  WireWriter out;
  encode_tag(out, tag);
  return out.take();
}

Result<ProposalTag> decode_proposal_tag(std::string_view bytes) {
  WireReader in(bytes);
  ProposalTag tag = decode_tag(in);
  RETURN_IF_ERROR(in.finish());
  return tag;
}

std::string encode_conf_change_context(const ConfChangeContext& context) {
  WireWriter out;
  encode_tag(out, context.tag);
  if (!context.attributes.empty()) out.bytes(context.attributes);
  return out.take();
}

Result<ConfChangeContext> decode_conf_change_context(std::string_view bytes) {
  WireReader in(bytes);
  ConfChangeContext context;
  context.tag = decode_tag(in);
  if (!in.failed() && !in.at_end()) context.attributes = in.bytes();
  RETURN_IF_ERROR(in.finish());
  return context;
}

}  // namespace lockstep::node
