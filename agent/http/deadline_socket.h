#pragma once

// A connected socket for Beast's synchronous HTTP algorithms (SyncReadStream and
// SyncWriteStream) where every read and write gives up at a deadline. Asio's own blocking
// sockets wait in poll() without a timeout, so a peer that stops answering would hold a probe
// or a scrape forever; here each operation polls for at most min(op timeout, overall deadline).

#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <cstddef>

namespace noa::agent {

class DeadlineSocket {
 public:
  using Clock = std::chrono::steady_clock;

  // Takes ownership of `fd` (made non-blocking here).
  explicit DeadlineSocket(int fd);
  ~DeadlineSocket();
  DeadlineSocket(const DeadlineSocket&) = delete;
  DeadlineSocket& operator=(const DeadlineSocket&) = delete;

  // Each operation fails with asio::error::timed_out when no progress is possible within
  // `per_operation` (a stalled peer) or after `overall` (a peer that trickles).
  void setLimits(Clock::time_point overall, std::chrono::milliseconds per_operation);
  bool timedOut() const { return timed_out_; }
  int fd() const { return fd_; }

  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers, boost::system::error_code& ec) {
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      boost::asio::mutable_buffer b(*it);
      if (b.size() > 0) return receive(b.data(), b.size(), ec);
    }
    ec = {};
    return 0;
  }
  template <class MutableBufferSequence>
  std::size_t read_some(const MutableBufferSequence& buffers) {
    boost::system::error_code ec;
    const std::size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
  // Gathers the buffers into one sendmsg: Beast hands a header over as many small pieces.
  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
    Pieces pieces;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers) && pieces.count < kMaxPieces; ++it) {
      boost::asio::const_buffer b(*it);
      if (b.size() == 0) continue;
      pieces.data[pieces.count] = b.data();
      pieces.size[pieces.count] = b.size();
      ++pieces.count;
    }
    if (pieces.count == 0) {
      ec = {};
      return 0;
    }
    return send(pieces, ec);
  }
  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& buffers) {
    boost::system::error_code ec;
    const std::size_t n = write_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

  // Stops sending (FIN) so the peer sees the end of a response; reads stay possible.
  void shutdownSend();

 private:
  std::size_t receive(void* data, std::size_t size, boost::system::error_code& ec);
  static constexpr int kMaxPieces = 16;
  struct Pieces {
    const void* data[kMaxPieces];
    std::size_t size[kMaxPieces];
    int count = 0;
  };
  std::size_t send(const Pieces& pieces, boost::system::error_code& ec);
  // Waits for `events`; false (with ec = timed_out) when the limits passed first.
  bool waitFor(short events, boost::system::error_code& ec);

  int fd_;
  Clock::time_point overall_ = Clock::time_point::max();
  std::chrono::milliseconds per_operation_{5000};
  bool timed_out_ = false;
};

}  // namespace noa::agent
