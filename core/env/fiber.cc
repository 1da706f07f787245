#include "core/env/fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <boost/context/stack_context.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <vector>

#include "core/base/assert.h"
#include "core/base/limits.h"
#include "core/env/runtime.h"

namespace lockstep::env {
namespace {

// Freed stacks kept for reuse per thread: a simulation creates and ends fibers constantly
// (one per message handler, per client operation), and mmap + mprotect per fiber would
// dominate. Beyond this many idle stacks, memory goes back to the system.
constexpr size_t kIdleStacksKept = 256;

size_t page_bytes() {
  static const size_t bytes = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  return bytes;
}

// One mapping per stack: a PROT_NONE guard page at the low end (stacks grow down), so an
// overflow faults at once rather than scribbling over a neighbour.
struct StackMapping {
  void* base = nullptr;  // the guard page's address
  size_t mapped_bytes = 0;
};

class StackPool {
 public:
  ~StackPool() {
    alive_ = false;
    for (const StackMapping& mapping : idle_) ::munmap(mapping.base, mapping.mapped_bytes);
  }

  StackMapping take() {
    if (!idle_.empty()) {
      StackMapping mapping = idle_.back();
      idle_.pop_back();
      return mapping;
    }
    const size_t mapped_bytes = limits::kFiberStackBytes + page_bytes();
    void* base = ::mmap(nullptr, mapped_bytes, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    ASSERT(base != MAP_FAILED, "mmap of a fiber stack failed: out of memory");
    const int protected_ok = ::mprotect(base, page_bytes(), PROT_NONE);
    ASSERT(protected_ok == 0, "mprotect of a fiber stack's guard page failed");
    return StackMapping{base, mapped_bytes};
  }

  void give_back(StackMapping mapping) {
    if (alive_ && idle_.size() < kIdleStacksKept) {
      idle_.push_back(mapping);
      return;
    }
    ::munmap(mapping.base, mapping.mapped_bytes);
  }

  static StackPool& for_this_thread() {
    thread_local StackPool pool;
    return pool;
  }

 private:
  std::vector<StackMapping> idle_;
  bool alive_ = true;
};

// Boost.Context's StackAllocator concept over the pool.
struct PooledStack {
  boost::context::stack_context allocate() {
    const StackMapping mapping = StackPool::for_this_thread().take();
    boost::context::stack_context context;
    context.size = mapping.mapped_bytes - page_bytes();
    context.sp = static_cast<char*>(mapping.base) + mapping.mapped_bytes;  // top: stacks grow down
    return context;
  }

  void deallocate(boost::context::stack_context& context) noexcept {
    const size_t mapped_bytes = context.size + page_bytes();
    void* base = static_cast<char*>(context.sp) - mapped_bytes;
    StackPool::for_this_thread().give_back(StackMapping{base, mapped_bytes});
  }
};

thread_local Fiber* current_fiber = nullptr;

[[noreturn]] void crash_on_escaped_exception(const std::string& fiber_name, const char* what) {
  std::fprintf(stderr, "fatal: exception escaped fiber '%s': %s\n", fiber_name.c_str(), what);
  std::fflush(stderr);
  UNREACHABLE("an exception other than FiberKilled escaped a fiber body");
}

}  // namespace

Fiber::Fiber(std::string name, Body body) : name_(std::move(name)), body_(std::move(body)) {
  ASSERT(body_ != nullptr, "a fiber needs a body");
  context_ = boost::context::fiber(
      std::allocator_arg, PooledStack{},
      [this](boost::context::fiber&& resumer) { return run_body(std::move(resumer)); });
}

Fiber::~Fiber() {
  ASSERT(current_fiber != this, "a fiber cannot destroy itself");
  kill();
}

Fiber* Fiber::current() {
  return current_fiber;
}

boost::context::fiber Fiber::run_body(boost::context::fiber&& resumer) {
  resumer_ = std::move(resumer);
  try {
    body_();
  } catch (const FiberKilled&) {
    // The expected end of a killed fiber: its stack has unwound up to here.
  } catch (const boost::context::detail::forced_unwind&) {
    // Boost.Context unwinding a fiber destroyed without kill(); it must reach Boost's entry.
    throw;
  } catch (const std::exception& error) {
    crash_on_escaped_exception(name_, error.what());
  } catch (...) {
    crash_on_escaped_exception(name_, "(not a std::exception)");
  }
  finished_ = true;
  // Release what the body captured while still on this stack's owner thread, before the
  // final switch frees the stack.
  body_ = nullptr;
  return std::move(resumer_);
}

void Fiber::switch_in() {
  previous_current_ = current_fiber;
  current_fiber = this;
  context_ = std::move(context_).resume();
  current_fiber = previous_current_;
}

void Fiber::resume() {
  ASSERT(!finished_, "resume() of a finished fiber");
  ASSERT(current_fiber != this, "a fiber cannot resume itself");
  started_ = true;
  switch_in();
}

void Fiber::suspend() {
  ASSERT(current_fiber == this, "suspend() is only for the running fiber itself");
  ASSERT(!kill_requested_, "a killed fiber swallowed FiberKilled and tried to run on");
  resumer_ = std::move(resumer_).resume();
  if (kill_requested_) throw FiberKilled{};
}

void Fiber::kill() {
  if (finished_) return;
  ASSERT(current_fiber != this, "a fiber cannot kill itself; throw FiberKilled instead");
  kill_requested_ = true;
  if (!started_) {
    // Never entered: destroying the Boost fiber unwinds only Boost's own entry frame.
    context_ = boost::context::fiber();
    finished_ = true;
    body_ = nullptr;
    return;
  }
  switch_in();
  ASSERT(finished_, "a killed fiber must finish: FiberKilled was swallowed");
}

}  // namespace lockstep::env
