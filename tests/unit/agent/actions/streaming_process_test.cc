// runProcessStreaming lives in common/process; it is tested here because the actions are its
// only user so far.
#include "common/process/streaming_process.h"

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace noa {
namespace {

TEST(StreamingProcessTest, DeliversAllOfStdoutInOrder) {
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "seq 1 200000; echo done >&2"};
  std::string got;
  auto r = runProcessStreaming(spec, [&](std::string_view chunk) {
    got.append(chunk);
    return Status::Ok();
  });
  ASSERT_OK(r);
  EXPECT_EQ(r->process.exit_code, 0);
  EXPECT_OK(r->sink_status);
  EXPECT_EQ(r->stdout_bytes, got.size());
  EXPECT_TRUE(r->process.stdout_tail.empty());
  EXPECT_EQ(r->process.stderr_tail, "done\n");
  EXPECT_TRUE(got.starts_with("1\n2\n3\n"));
  EXPECT_TRUE(got.ends_with("199999\n200000\n"));
}

TEST(StreamingProcessTest, SinkErrorStopsAnEndlessProducer) {
  ProcessSpec spec;
  spec.argv = {"yes"};
  spec.timeout = std::chrono::seconds(30);
  uint64_t seen = 0;
  auto r = runProcessStreaming(spec, [&](std::string_view chunk) {
    seen += chunk.size();
    if (seen > (4u << 20)) return Status::ResourceExhausted("disk full");
    return Status::Ok();
  });
  ASSERT_OK(r);
  EXPECT_EQ(r->sink_status.code(), StatusCode::kResourceExhausted);
  EXPECT_FALSE(r->process.timed_out);
  EXPECT_FALSE(r->process.cancelled);
  EXPECT_NE(r->process.exit_code, 0);
  EXPECT_LT(r->process.duration, std::chrono::seconds(10));
}

TEST(StreamingProcessTest, CancelAndMissingBinary) {
  StopToken stop;
  stop.requestStop();
  ProcessSpec spec;
  spec.argv = {"yes"};
  auto r = runProcessStreaming(
      spec, [](std::string_view) { return Status::Ok(); }, &stop);
  ASSERT_OK(r);
  EXPECT_TRUE(r->process.cancelled);

  spec.argv = {"/nonexistent/tool"};
  auto missing = runProcessStreaming(spec, [](std::string_view) { return Status::Ok(); });
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace noa
