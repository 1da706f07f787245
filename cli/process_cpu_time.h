#pragma once

namespace lockstep::cli {

// CPU seconds (user + system) this process has used so far: the simulator's speed per CPU
// second, which unlike wall time does not count the time a run waited for a core.
double process_cpu_seconds();

}  // namespace lockstep::cli
