#pragma once

#include <boost/context/fiber.hpp>
#include <functional>
#include <string>

namespace lockstep::env {

// A stackful coroutine on a fixed-size stack (limits::kFiberStackBytes), the building block of
// both runtimes (sim/ and server/). A Fiber is driven by exactly one *resumer* (the runtime's
// scheduler loop): resume() runs the body until the body calls suspend() or returns. The body
// runs on its own stack, on the resumer's thread, so nothing here is concurrent.
//
// Killing: kill() (or destroying an unfinished Fiber) resumes the fiber one last time with a
// kill flag set, so the suspend() it is blocked in throws env::FiberKilled. The exception
// unwinds the fiber's stack — destructors run, locks release, files close — and the wrapper
// around the body catches it. A body must let FiberKilled propagate; one that swallows it and
// suspends again is a bug and crashes. Any other exception escaping a body is also a bug: the
// process prints its what() and aborts, because there is nobody to hand it to.
//
// Stacks come from a per-thread pool with a guard page below each stack, so creating fibers
// is cheap after warm-up and a stack overflow faults instead of corrupting memory.
//
//   env::Fiber fiber("worker", [&] { step_one(); env::Fiber::current()->suspend(); step_two(); });
//   fiber.resume();  // runs step_one, returns at suspend()
//   fiber.resume();  // runs step_two; fiber.finished() is now true
class Fiber {
 public:
  using Body = std::function<void()>;

  // Creates a fiber that has not run yet; the first resume() enters `body`.
  Fiber(std::string name, Body body);
  // Kills the fiber if it started and has not finished (see kill()).
  ~Fiber();
  Fiber(const Fiber&) = delete;
  Fiber& operator=(const Fiber&) = delete;

  // Runs the fiber until it suspends or finishes. Must be called from outside this fiber,
  // and not on a finished fiber.
  void resume();
  // Called by the body (only while this fiber runs): returns control to the resumer. Returns
  // when the resumer calls resume() again, or throws FiberKilled if it called kill().
  void suspend();
  // Unwinds an unfinished fiber's stack (FiberKilled thrown from its pending suspend()) and
  // marks it finished. A fiber that never started simply never runs its body. No-op when
  // finished. Must be called from outside this fiber.
  void kill();

  bool started() const { return started_; }
  bool finished() const { return finished_; }
  const std::string& name() const { return name_; }

  // The fiber running on this thread, or nullptr when the thread's own stack runs.
  static Fiber* current();

 private:
  boost::context::fiber run_body(boost::context::fiber&& resumer);
  void switch_in();

  std::string name_;
  Body body_;
  boost::context::fiber context_;  // the fiber's side while suspended
  boost::context::fiber resumer_;  // the resumer's side while the fiber runs
  Fiber* previous_current_ = nullptr;
  bool started_ = false;
  bool finished_ = false;
  bool kill_requested_ = false;
};

}  // namespace lockstep::env
