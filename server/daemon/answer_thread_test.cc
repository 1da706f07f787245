#include "server/daemon/answer_thread.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace lockstep::daemon {
namespace {

TEST(AnswerThread, RunsBatchesInTheOrderHandedOverOnItsOwnThread) {
  AnswerThread answers;
  std::vector<int> delivered;  // written by the answer thread only, read after drain()
  std::vector<std::thread::id> delivered_on;
  for (int batch = 0; batch < 50; ++batch) {
    AnswerThread::Batch deliveries;
    for (int i = 0; i < 10; ++i) {
      deliveries.push_back([&, value = batch * 10 + i] {
        delivered.push_back(value);
        delivered_on.push_back(std::this_thread::get_id());
      });
    }
    answers.run(std::move(deliveries));
  }
  answers.drain();
  EXPECT_TRUE(answers.idle());
  ASSERT_EQ(delivered.size(), 500u);
  for (int i = 0; i < 500; ++i) EXPECT_EQ(delivered[static_cast<size_t>(i)], i);
  for (const std::thread::id& id : delivered_on) EXPECT_NE(id, std::this_thread::get_id());
}

TEST(AnswerThread, IsNotIdleWhileABatchRuns) {
  AnswerThread answers;
  std::mutex gate;
  std::unique_lock hold(gate);
  bool ran = false;
  answers.run({[&] {
    std::lock_guard wait_for_test(gate);
    ran = true;
  }});
  EXPECT_FALSE(answers.idle()) << "queued or running until the delivery returns";
  hold.unlock();
  answers.drain();
  EXPECT_TRUE(answers.idle());
  EXPECT_TRUE(ran);
}

TEST(AnswerThread, DestructionRunsWhatIsQueued) {
  int delivered = 0;
  {
    AnswerThread answers;
    for (int i = 0; i < 20; ++i) answers.run({[&] { ++delivered; }});
  }
  EXPECT_EQ(delivered, 20);
}

}  // namespace
}  // namespace lockstep::daemon
