// A minimal ZMTP 3.1 + CURVE client speaking to a libzmq ROUTER as if it were a libzmq DEALER,
// over one non-blocking TCP socket, with no threads of its own.
//
// Why: the load generator simulates ~20,000 agents; one libzmq DEALER per agent costs an I/O
// thread hop, a mailbox and an eventfd per message (~80 us). This client does the framing and
// the CurveZMQ crypto (libsodium, precomputed shared keys) inline in the caller's epoll loop.
//
// Wire format (checked against libzmq 4.3.4 src/zmtp_engine.cpp, src/curve_client_tools.hpp,
// src/curve_mechanism_base.cpp, src/v2_encoder.cpp and a capture of a real DEALER):
//   greeting  ff <u64be routing_id_size+1> 7f 03 01 "CURVE"+NULs(20) 00 <31 x 00>
//   HELLO, WELCOME, INITIATE, READY, ERROR: ZMTP command frames (flag 0x04)
//   traffic   plain ZMTP message frames (flag 0x00 or 0x02 LONG, never MORE/COMMAND outside),
//             body "\x07MESSAGE" <u64be nonce> <16 MAC> box(<flags> <payload>); the inner
//             flags byte carries MORE (0x01) and COMMAND (0x02), so PING/PONG travel encrypted.
//   nonces    short nonces are u64 big-endian counters, one per direction, from 1 (ours: HELLO 1,
//             INITIATE 2, messages 3...; the server's: READY 1, messages 2...); each side rejects
//             a nonce that does not increase.
// The one visible difference from libzmq: the greeting and HELLO go out in one write, without
// waiting for the server's greeting (libzmq sends its greeting in three pieces, waiting for the
// peer's between them). The ROUTER reads the greeting with bounded reads, so this is fine.
//
// Not thread-safe: one thread drives a client (several clients per thread is the point).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace noa::bench {

// Z85 text, 40 characters each, as printed by zmq_curve_keypair.
struct CurveKeys {
  std::string server_public_z85;
  std::string client_public_z85;
  std::string client_secret_z85;
};

struct ZmtpCurveOptions {
  // Largest ZMTP frame body accepted from the server (encrypted size: payload + 33 bytes).
  std::size_t max_frame_bytes = 256 * 1024;
  // Like ZMQ_SNDHWM, in bytes: send() drops rather than buffers beyond this. A single message
  // is always accepted when nothing is pending, however large.
  std::size_t max_pending_out_bytes = 1024 * 1024;
};

class ZmtpCurveClient {
 public:
  enum class State { kConnecting, kHandshake, kReady, kFailed };

  struct Stats {
    std::uint64_t messages_in = 0;   // delivered to on_message
    std::uint64_t messages_out = 0;  // accepted by send()
    std::uint64_t pings_in = 0;      // answered with PONG
    std::uint64_t pongs_in = 0;
    std::uint64_t multipart_dropped = 0;  // a DEALER's peer should not send these; see poll()
  };

  // Starts a non-blocking TCP connect to an IPv4 host:port with TCP_NODELAY. Returns nullptr
  // (and *error) only for bad arguments or socket() failures; a refused connection shows up
  // later as kFailed. routing_id (<= 255 bytes) becomes the ROUTER's routing id for us; empty
  // lets the ROUTER generate one, as with a DEALER without ZMQ_ROUTING_ID.
  static std::unique_ptr<ZmtpCurveClient> connect(const std::string& host, int port,
                                                  const CurveKeys& keys,
                                                  const std::string& routing_id,
                                                  std::string* error,
                                                  const ZmtpCurveOptions& options = {});

  ~ZmtpCurveClient();
  ZmtpCurveClient(const ZmtpCurveClient&) = delete;
  ZmtpCurveClient& operator=(const ZmtpCurveClient&) = delete;

  // Stays open after a failure so that an epoll registration keyed by it stays valid until
  // close() (take a kFailed client out of a level-triggered epoll: EOF keeps firing); -1 after
  // close().
  int fd() const { return fd_; }
  State state() const { return state_; }
  const std::string& error() const { return error_; }
  const Stats& stats() const { return stats_; }
  // Time of the last frame received; lets the caller enforce a heartbeat timeout.
  std::chrono::steady_clock::time_point lastReceive() const { return last_rx_; }

  // True while the connect is pending or bytes are buffered: watch EPOLLOUT then.
  bool wantsWrite() const;

  // Call on readiness (EPOLLIN/EPOLLOUT/EPOLLERR) or periodically. Completes the connect,
  // flushes buffered output, runs the handshake and reads until the socket is drained; every
  // complete message goes to on_message. The view points into the receive buffer and is valid
  // only during the call. on_message may call send() or close(), but must not destroy the client.
  void poll(const std::function<void(std::string_view)>& on_message);

  // kReady only. Encrypts and frames one single-part message, then writes it with one send()
  // unless earlier output is still pending (then poll() flushes it). False when not ready, when
  // max_pending_out_bytes would be exceeded (message dropped), or when the write failed.
  bool send(std::string_view message);
  // A ZMTP 3.1 PING as a libzmq DEALER with ZMQ_HEARTBEAT_IVL sends it: TTL 0, no context.
  // There are no timers here: call it every heartbeat interval if wanted, and judge the
  // heartbeat timeout from lastReceive(). PINGs from the server are answered inside poll().
  bool sendPing();

  void close();

 private:
  ZmtpCurveClient() = default;

  struct Buffer {
    std::unique_ptr<std::uint8_t[]> data;
    std::size_t cap = 0, begin = 0, end = 0;
    std::size_t size() const { return end - begin; }
    std::uint8_t* head() { return data.get() + begin; }
    std::uint8_t* tail() { return data.get() + end; }
    // Makes room for n more bytes at tail(), compacting or growing.
    void reserve(std::size_t n);
    void consume(std::size_t n);
  };

  enum class Phase { kGreeting, kWelcome, kReadyCommand, kTraffic };

  void fail(std::string message);
  bool flush();
  bool finishConnect();
  void readAvailable(const std::function<void(std::string_view)>& on_message);
  bool parseInput(const std::function<void(std::string_view)>& on_message);
  bool handleHandshakeCommand(std::uint8_t* body, std::size_t size);
  bool handleWelcome(const std::uint8_t* body, std::size_t size);
  bool handleReady(std::uint8_t* body, std::size_t size);
  bool handleMessage(std::uint8_t* body, std::size_t size,
                     const std::function<void(std::string_view)>& on_message);
  // Frames and encrypts flags+payload (payload may be split in two, for PONG's context).
  bool sendEncrypted(std::uint8_t flags, std::string_view a, std::string_view b);

  int fd_ = -1;
  State state_ = State::kConnecting;
  Phase phase_ = Phase::kGreeting;
  std::string error_;
  ZmtpCurveOptions options_;
  std::string routing_id_;
  Stats stats_;
  std::chrono::steady_clock::time_point last_rx_{};
  bool in_multipart_ = false;  // dropping the rest of a multi-part message
  std::size_t in_need_ = 0;    // bytes the incomplete frame at in_.head() needs in total
  std::string peer_;           // "host:port", for error text

  Buffer in_, out_;

  std::uint64_t nonce_out_ = 1;      // next short nonce we send (HELLO uses 1)
  std::uint64_t peer_nonce_ = 0;     // last short nonce from the server; must increase

  std::uint8_t server_long_pk_[32];  // S
  std::uint8_t client_long_pk_[32];  // C
  std::uint8_t client_long_sk_[32];  // c
  std::uint8_t client_eph_pk_[32];   // C'
  std::uint8_t client_eph_sk_[32];   // c'
  std::uint8_t server_eph_pk_[32];   // S'
  std::uint8_t key_s_ceph_[32];      // beforenm(S, c'): HELLO and WELCOME
  std::uint8_t key_session_[32];     // beforenm(S', c'): INITIATE, READY, MESSAGE
};

}  // namespace noa::bench
