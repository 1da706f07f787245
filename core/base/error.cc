#include "core/base/error.h"

namespace lockstep {

std::string_view error_message(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
#define LOCKSTEP_ERROR_MESSAGE(name, grpc, message) \
  case ErrorCode::name:                             \
    return message;
      LOCKSTEP_ERROR_TABLE(LOCKSTEP_ERROR_MESSAGE)
#undef LOCKSTEP_ERROR_MESSAGE
  }
  UNREACHABLE("unknown ErrorCode");
}

std::string_view error_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "kOk";
#define LOCKSTEP_ERROR_NAME(name, grpc, message) \
  case ErrorCode::name:                          \
    return #name;
      LOCKSTEP_ERROR_TABLE(LOCKSTEP_ERROR_NAME)
#undef LOCKSTEP_ERROR_NAME
  }
  UNREACHABLE("unknown ErrorCode");
}

GrpcCode error_grpc_code(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return GrpcCode::kOk;
#define LOCKSTEP_ERROR_GRPC(name, grpc, message) \
  case ErrorCode::name:                          \
    return GrpcCode::grpc;
      LOCKSTEP_ERROR_TABLE(LOCKSTEP_ERROR_GRPC)
#undef LOCKSTEP_ERROR_GRPC
  }
  UNREACHABLE("unknown ErrorCode");
}

std::string Error::to_string() const {
  std::string text(message());
  if (!detail_.empty()) {
    text += ": ";
    text += detail_;
  }
  return text;
}

std::ostream& operator<<(std::ostream& out, const Error& error) { return out << error.to_string(); }

}  // namespace lockstep
