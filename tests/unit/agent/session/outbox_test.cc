#include "agent/session/outbox.h"

#include <gtest/gtest.h>

#include <vector>

namespace noa::agent {
namespace {

TEST(Outbox, NewestReportReplacesAnUnsentOne) {
  Outbox outbox;
  outbox.offerReport("r1");
  outbox.offerReport("r2");
  outbox.offerReport("r3");
  EXPECT_EQ(outbox.replacedReports(), 2u);
  std::vector<std::string> sent;
  EXPECT_EQ(outbox.flush([&](std::string_view b) {
    sent.emplace_back(b);
    return Status::Ok();
  }),
            1u);
  EXPECT_EQ(sent, std::vector<std::string>{"r3"});
  EXPECT_FALSE(outbox.hasReport());
}

TEST(Outbox, EventsGoFirstInOrderAndStayWhenSendFails) {
  Outbox outbox;
  outbox.offerReport("report");
  ASSERT_TRUE(outbox.pushEvent("e1").ok());
  ASSERT_TRUE(outbox.pushEvent("e2").ok());
  std::vector<std::string> sent;
  int budget = 1;
  auto send = [&](std::string_view b) {
    if (budget-- <= 0) return Status::ResourceExhausted("full");
    sent.emplace_back(b);
    return Status::Ok();
  };
  EXPECT_EQ(outbox.flush(send), 1u);
  EXPECT_EQ(outbox.pendingEvents(), 1u);
  EXPECT_TRUE(outbox.hasReport());
  budget = 10;
  EXPECT_EQ(outbox.flush(send), 2u);
  EXPECT_EQ(sent, (std::vector<std::string>{"e1", "e2", "report"}));
}

TEST(Outbox, EventQueueIsBounded) {
  Outbox outbox(2);
  EXPECT_TRUE(outbox.pushEvent("a").ok());
  EXPECT_TRUE(outbox.pushEvent("b").ok());
  Status full = outbox.pushEvent("c");
  EXPECT_EQ(full.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(outbox.pendingEvents(), 2u);
}

}  // namespace
}  // namespace noa::agent
