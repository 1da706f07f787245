#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/base/random.h"
#include "core/base/time.h"
#include "sim/path_model.h"

namespace lockstep::sim {

// The state of every directed path between processes, by process index: its model, whether
// a partition cuts it, until when it is clogged, and the FIFO watermark (the latest delivery
// time scheduled for an in-order message). A dense matrix: the worlds here hold a handful to
// a few dozen processes, and a send must not allocate or search a tree.
class NetworkFabric {
 public:
  struct Path {
    PathModel model;
    bool cut = false;
    Instant clogged_until;
    Instant fifo_watermark;
  };

  // Grows the matrix to `process_count` processes; new paths get `default_model`.
  void resize(uint32_t process_count, const PathModel& default_model);
  uint32_t process_count() const { return process_count_; }

  Path& path(uint32_t from, uint32_t to) { return paths_[from * process_count_ + to]; }
  const Path& path(uint32_t from, uint32_t to) const { return paths_[from * process_count_ + to]; }

  // Plans one message sent at `now`: nullopt when lost, else its delivery time. Draws from
  // `random` in a fixed order (loss, latency, reorder) so runs replay.
  std::optional<Instant> plan_delivery(uint32_t from, uint32_t to, Instant now, Random& random);
  bool draw_duplicate(uint32_t from, uint32_t to, Random& random) {
    return random.chance(path(from, to).model.duplicate_probability);
  }

  void set_default_model(const PathModel& model);
  void heal();

 private:
  static Duration draw_latency(const PathModel& model, Random& random);

  uint32_t process_count_ = 0;
  std::vector<Path> paths_;
};

}  // namespace lockstep::sim
