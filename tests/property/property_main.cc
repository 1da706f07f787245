// The property suite's main: RapidCheck reads its parameters from RC_PARAMS. Unless the
// caller set them, a ctest run gets a small fixed budget and a fixed seed, so CI runs are
// short and repeatable; LOCKSTEP_PROPERTY_SOAK=N asks for N cases with a fresh seed instead.
//
//   LOCKSTEP_PROPERTY_SOAK=500 ./lockstep_property_tests           (a longer soak)
//   RC_PARAMS="reproduce=..." ./lockstep_property_tests            (replay a failure)
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace {

constexpr int kDefaultCases = 12;
constexpr int kDefaultSeed = 20261121;

void choose_rapidcheck_parameters() {
  if (std::getenv("RC_PARAMS") != nullptr) return;
  std::string parameters;
  if (const char* soak = std::getenv("LOCKSTEP_PROPERTY_SOAK")) {
    parameters = "max_success=" + std::to_string(std::max(1, std::atoi(soak)));
  } else {
    parameters =
        "max_success=" + std::to_string(kDefaultCases) + " seed=" + std::to_string(kDefaultSeed);
  }
  setenv("RC_PARAMS", parameters.c_str(), 1);
}

}  // namespace

int main(int argc, char** argv) {
  choose_rapidcheck_parameters();
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
