#include "tests/bench/zmtp_curve_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace noa::bench {
namespace {

constexpr std::size_t kGreetingSize = 64;
constexpr std::size_t kMinReadSpace = 2048;
constexpr std::size_t kInitialBuffer = 4096;
// A buffer grown for one large frame is given back once empty, so 20,000 idle clients do not
// each keep 256 KiB.
constexpr std::size_t kShrinkAbove = 64 * 1024;

constexpr std::uint8_t kFlagMore = 0x01;
constexpr std::uint8_t kFlagLong = 0x02;
constexpr std::uint8_t kFlagCommand = 0x04;
// Inside the MESSAGE box libzmq puts msg_t flags, where COMMAND is 0x02 (not 0x04 as on the
// wire): curve_mechanism_base.cpp, flag_mask = msg_t::more | msg_t::command.
constexpr std::uint8_t kBoxMore = 0x01;
constexpr std::uint8_t kBoxCommand = 0x02;

// "\x07MESSAGE" + 8-byte nonce + 16-byte MAC + flags byte.
constexpr std::size_t kMessageOverhead = 8 + 8 + crypto_box_MACBYTES + 1;

void putBe64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}
std::uint64_t getBe64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}
void putBe32(std::uint8_t* p, std::uint32_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 24);
  p[1] = static_cast<std::uint8_t>(v >> 16);
  p[2] = static_cast<std::uint8_t>(v >> 8);
  p[3] = static_cast<std::uint8_t>(v);
}
std::uint32_t getBe32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// Own decoder so that this client does not need libzmq at all.
bool z85Decode(const std::string& text, std::uint8_t out[32]) {
  static constexpr char kAlphabet[] =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  if (text.size() != 40) return false;
  for (std::size_t i = 0; i < 40; i += 5) {
    std::uint64_t v = 0;
    for (std::size_t j = 0; j < 5; ++j) {
      const char* at = std::strchr(kAlphabet, text[i + j]);
      if (at == nullptr || text[i + j] == '\0') return false;
      v = v * 85 + static_cast<std::uint64_t>(at - kAlphabet);
    }
    if (v > 0xffffffffULL) return false;
    putBe32(out + i / 5 * 4, static_cast<std::uint32_t>(v));
  }
  return true;
}

std::size_t addProperty(std::uint8_t* p, std::string_view name, std::string_view value) {
  p[0] = static_cast<std::uint8_t>(name.size());
  std::memcpy(p + 1, name.data(), name.size());
  putBe32(p + 1 + name.size(), static_cast<std::uint32_t>(value.size()));
  if (!value.empty()) std::memcpy(p + 5 + name.size(), value.data(), value.size());
  return 5 + name.size() + value.size();
}

std::string printable(const std::uint8_t* p, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = static_cast<char>(p[i]);
    s += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return s;
}

std::string errnoText(const char* what, int err) {
  return std::string(what) + ": " + std::strerror(err);
}

}  // namespace

void ZmtpCurveClient::Buffer::reserve(std::size_t n) {
  if (cap - end >= n) return;
  const std::size_t used = size();
  if (data && cap - used >= n && begin > 0) {
    std::memmove(data.get(), data.get() + begin, used);
  } else {
    const std::size_t new_cap = std::max({cap * 2, used + n, kInitialBuffer});
    auto grown = std::make_unique_for_overwrite<std::uint8_t[]>(new_cap);
    if (used > 0) std::memcpy(grown.get(), data.get() + begin, used);
    data = std::move(grown);
    cap = new_cap;
  }
  begin = 0;
  end = used;
}

void ZmtpCurveClient::Buffer::consume(std::size_t n) {
  begin += n;
  if (begin == end) {
    begin = end = 0;
    if (cap > kShrinkAbove) {
      data.reset();
      cap = 0;
    }
  }
}

std::unique_ptr<ZmtpCurveClient> ZmtpCurveClient::connect(const std::string& host, int port,
                                                          const CurveKeys& keys,
                                                          const std::string& routing_id,
                                                          std::string* error,
                                                          const ZmtpCurveOptions& options) {
  auto set_error = [error](std::string text) {
    if (error != nullptr) *error = std::move(text);
  };
  if (sodium_init() < 0) {
    set_error("sodium_init failed");
    return nullptr;
  }
  std::unique_ptr<ZmtpCurveClient> c(new ZmtpCurveClient());
  if (!z85Decode(keys.server_public_z85, c->server_long_pk_) ||
      !z85Decode(keys.client_public_z85, c->client_long_pk_) ||
      !z85Decode(keys.client_secret_z85, c->client_long_sk_)) {
    set_error("CURVE keys must be 40 characters of Z85 each");
    return nullptr;
  }
  // A mismatched pair would only show up as an opaque refusal by the server.
  std::uint8_t derived[32];
  crypto_scalarmult_base(derived, c->client_long_sk_);
  if (sodium_memcmp(derived, c->client_long_pk_, 32) != 0) {
    set_error("client_public_z85 is not the public key of client_secret_z85");
    return nullptr;
  }
  if (routing_id.size() > 255) {
    set_error("routing id longer than 255 bytes");
    return nullptr;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (port <= 0 || port > 65535 || inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    set_error("bad IPv4 address " + host + ":" + std::to_string(port));
    return nullptr;
  }
  c->options_ = options;
  c->routing_id_ = routing_id;
  c->peer_ = host + ":" + std::to_string(port);
  c->fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd_ < 0) {
    set_error(errnoText("socket", errno));
    return nullptr;
  }
  const int one = 1;
  ::setsockopt(c->fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  crypto_box_keypair(c->client_eph_pk_, c->client_eph_sk_);
  if (crypto_box_beforenm(c->key_s_ceph_, c->server_long_pk_, c->client_eph_sk_) != 0) {
    set_error("server public key is not a usable Curve25519 key");
    return nullptr;
  }

  // Greeting and HELLO need nothing from the server, so they go out in the first write. The
  // padding carries routing_id size + 1 like libzmq's (a ZMTP 1.0 length field).
  Buffer& out = c->out_;
  out.reserve(kGreetingSize + 2 + 200);
  std::uint8_t* g = out.tail();
  std::memset(g, 0, kGreetingSize);
  g[0] = 0xff;
  putBe64(g + 1, routing_id.size() + 1);
  g[9] = 0x7f;
  g[10] = 3;  // ZMTP 3.1, as libzmq 4.3.4 announces
  g[11] = 1;
  std::memcpy(g + 12, "CURVE", 5);
  // g[32] as-server = 0, filler stays zero.

  std::uint8_t* f = g + kGreetingSize;
  f[0] = kFlagCommand;
  f[1] = 200;
  std::uint8_t* hello = f + 2;
  std::memset(hello, 0, 200);
  std::memcpy(hello, "\x05HELLO\x01\x00", 8);  // CurveZMQ 1.0, then 72 bytes anti-amplification
  std::memcpy(hello + 80, c->client_eph_pk_, 32);
  putBe64(hello + 112, c->nonce_out_);
  std::uint8_t nonce[24];
  std::memcpy(nonce, "CurveZMQHELLO---", 16);
  std::memcpy(nonce + 16, hello + 112, 8);
  static const std::uint8_t kZeros[64] = {};
  crypto_box_easy_afternm(hello + 120, kZeros, 64, nonce, c->key_s_ceph_);
  ++c->nonce_out_;
  out.end += kGreetingSize + 2 + 200;

  if (::connect(c->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    c->state_ = State::kHandshake;
    c->flush();
  } else if (errno == EINPROGRESS) {
    c->state_ = State::kConnecting;
  } else {
    c->fail(errnoText(("connect to " + c->peer_).c_str(), errno));
  }
  return c;
}

ZmtpCurveClient::~ZmtpCurveClient() {
  close();
  sodium_memzero(client_long_sk_, sizeof client_long_sk_);
  sodium_memzero(client_eph_sk_, sizeof client_eph_sk_);
  sodium_memzero(key_s_ceph_, sizeof key_s_ceph_);
  sodium_memzero(key_session_, sizeof key_session_);
}

void ZmtpCurveClient::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  if (state_ != State::kFailed) {
    state_ = State::kFailed;
    error_ = "closed by the caller";
  }
}

void ZmtpCurveClient::fail(std::string message) {
  if (state_ == State::kFailed) return;  // keep the first cause
  state_ = State::kFailed;
  error_ = std::move(message);
}

bool ZmtpCurveClient::wantsWrite() const {
  return fd_ >= 0 && state_ != State::kFailed &&
         (state_ == State::kConnecting || out_.size() > 0);
}

bool ZmtpCurveClient::finishConnect() {
  pollfd p{fd_, POLLOUT, 0};
  const int n = ::poll(&p, 1, 0);
  if (n == 0) return false;
  if (n < 0) {
    if (errno != EINTR) fail(errnoText("poll", errno));
    return false;
  }
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) {
    fail(errnoText(("connect to " + peer_).c_str(), err));
    return false;
  }
  state_ = State::kHandshake;
  return true;
}

bool ZmtpCurveClient::flush() {
  while (out_.size() > 0) {
    const ssize_t n = ::send(fd_, out_.head(), out_.size(), MSG_NOSIGNAL);
    if (n > 0) {
      out_.consume(static_cast<std::size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return true;
    } else {
      const int err = n < 0 ? errno : EPIPE;
      fail(err == EPIPE || err == ECONNRESET
               ? "server " + peer_ + " closed the connection (write: " + std::strerror(err) + ")"
               : errnoText(("write to " + peer_).c_str(), err));
      return false;
    }
  }
  return true;
}

void ZmtpCurveClient::poll(const std::function<void(std::string_view)>& on_message) {
  if (fd_ < 0 || state_ == State::kFailed) return;
  if (state_ == State::kConnecting && !finishConnect()) return;
  if (out_.size() > 0 && !flush()) return;
  readAvailable(on_message);
}

void ZmtpCurveClient::readAvailable(const std::function<void(std::string_view)>& on_message) {
  for (;;) {
    const std::size_t want =
        std::max(kMinReadSpace, in_need_ > in_.size() ? in_need_ - in_.size() : 0);
    in_.reserve(want);
    const std::size_t space = in_.cap - in_.end;
    const ssize_t n = ::read(fd_, in_.tail(), space);
    if (n > 0) {
      in_.end += static_cast<std::size_t>(n);
      last_rx_ = std::chrono::steady_clock::now();
      if (!parseInput(on_message)) return;
      // A short read means the socket is drained; skips the read that would say EAGAIN.
      if (static_cast<std::size_t>(n) < space) return;
    } else if (n == 0) {
      fail(state_ == State::kReady
               ? "server " + peer_ + " closed the connection"
               : "server " + peer_ +
                     " closed the connection during the handshake (client key refused, or "
                     "wrong server key?)");
      return;
    } else if (errno == EINTR) {
      continue;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return;
    } else {
      fail(errnoText(("read from " + peer_).c_str(), errno));
      return;
    }
  }
}

bool ZmtpCurveClient::parseInput(const std::function<void(std::string_view)>& on_message) {
  for (;;) {
    std::uint8_t* p = in_.head();
    const std::size_t avail = in_.size();
    if (phase_ == Phase::kGreeting) {
      // Judge each field as soon as it arrives: a non-ZMTP-3 peer may never send 64 bytes.
      if (avail >= 1 && p[0] != 0xff) {
        fail("server " + peer_ + " does not speak ZMTP 3 (bad greeting signature)");
        return false;
      }
      if (avail >= 10 && (p[9] & 0x01) == 0) {
        fail("server " + peer_ + " speaks ZMTP 1.0");
        return false;
      }
      if (avail >= 11 && p[10] < 3) {
        fail("server " + peer_ + " speaks ZMTP " + std::to_string(p[10]) + ".x, not 3");
        return false;
      }
      if (avail < kGreetingSize) {
        in_need_ = kGreetingSize;
        return true;
      }
      static const std::uint8_t kCurve[20] = {'C', 'U', 'R', 'V', 'E'};
      if (std::memcmp(p + 12, kCurve, 20) != 0) {
        const std::size_t name_len = ::strnlen(reinterpret_cast<const char*>(p + 12), 20);
        fail("server " + peer_ + " uses mechanism '" + printable(p + 12, name_len) +
             "', not CURVE");
        return false;
      }
      in_.consume(kGreetingSize);
      phase_ = Phase::kWelcome;
      continue;
    }

    if (avail < 2) {
      in_need_ = 2;
      return true;
    }
    const std::uint8_t flags = p[0];
    if ((flags & ~(kFlagMore | kFlagLong | kFlagCommand)) != 0) {
      fail("bad ZMTP frame flags " + std::to_string(flags));
      return false;
    }
    const std::size_t header = (flags & kFlagLong) ? 9 : 2;
    if (avail < header) {
      in_need_ = header;
      return true;
    }
    const std::uint64_t size = (flags & kFlagLong) ? getBe64(p + 1) : p[1];
    if (size > options_.max_frame_bytes) {
      fail("frame of " + std::to_string(size) + " bytes exceeds max_frame_bytes " +
           std::to_string(options_.max_frame_bytes));
      return false;
    }
    const std::size_t total = header + static_cast<std::size_t>(size);
    if (avail < total) {
      in_need_ = total;
      return true;
    }
    in_need_ = 0;
    std::uint8_t* body = p + header;
    bool ok;
    if (phase_ == Phase::kTraffic) {
      ok = handleMessage(body, static_cast<std::size_t>(size), on_message);
    } else if ((flags & (kFlagCommand | kFlagMore)) != kFlagCommand) {
      fail("expected a handshake command frame, got frame flags " + std::to_string(flags));
      ok = false;
    } else {
      ok = handleHandshakeCommand(body, static_cast<std::size_t>(size));
    }
    if (!ok || fd_ < 0 || state_ == State::kFailed) return false;
    in_.consume(total);
  }
}

bool ZmtpCurveClient::handleHandshakeCommand(std::uint8_t* body, std::size_t size) {
  if (size < 1 || std::size_t{body[0]} + 1 > size) {
    fail("malformed handshake command");
    return false;
  }
  const std::string_view name(reinterpret_cast<const char*>(body + 1), body[0]);
  if (name == "ERROR") {
    // libzmq sends this when ZAP denies the client key; the reason is the ZAP status code.
    std::string reason;
    if (size >= 7) reason = printable(body + 7, std::min<std::size_t>(body[6], size - 7));
    fail("server " + peer_ + " refused the handshake: ERROR \"" + reason +
         "\" (client key not authorised?)");
    return false;
  }
  if (phase_ == Phase::kWelcome) {
    if (name != "WELCOME") {
      fail("expected WELCOME, got " + printable(body + 1, body[0]));
      return false;
    }
    return handleWelcome(body, size);
  }
  if (name != "READY") {
    fail("expected READY, got " + printable(body + 1, body[0]));
    return false;
  }
  return handleReady(body, size);
}

bool ZmtpCurveClient::handleWelcome(const std::uint8_t* body, std::size_t size) {
  // "\x07WELCOME" + 16-byte long nonce + Box[S' + cookie(96)](S->C')
  if (size != 168) {
    fail("WELCOME of " + std::to_string(size) + " bytes, expected 168");
    return false;
  }
  std::uint8_t nonce[24];
  std::memcpy(nonce, "WELCOME-", 8);
  std::memcpy(nonce + 8, body + 8, 16);
  std::uint8_t plain[128];
  if (crypto_box_open_easy_afternm(plain, body + 24, 144, nonce, key_s_ceph_) != 0) {
    fail("WELCOME does not decrypt: wrong server public key?");
    return false;
  }
  std::memcpy(server_eph_pk_, plain, 32);
  const std::uint8_t* cookie = plain + 32;
  if (crypto_box_beforenm(key_session_, server_eph_pk_, client_eph_sk_) != 0) {
    fail("server short-term key is unusable");
    return false;
  }

  // vouch = Box[C' + S](C->S'), long nonce "VOUCH---" + 16 random bytes.
  std::uint8_t vouch_nonce[24];
  std::memcpy(vouch_nonce, "VOUCH---", 8);
  randombytes_buf(vouch_nonce + 8, 16);
  std::uint8_t vouch_plain[64];
  std::memcpy(vouch_plain, client_eph_pk_, 32);
  std::memcpy(vouch_plain + 32, server_long_pk_, 32);
  std::uint8_t vouch[80];
  if (crypto_box_easy(vouch, vouch_plain, 64, vouch_nonce, server_eph_pk_, client_long_sk_) !=
      0) {
    fail("cannot build the INITIATE vouch");
    return false;
  }

  // Box[C + vouch nonce(16) + vouch(80) + metadata](C'->S'); metadata as libzmq's
  // add_basic_properties writes it for a DEALER: Socket-Type, then Identity (even if empty).
  std::array<std::uint8_t, 128 + 2 * (1 + 11 + 4) + 6 + 255> plain_init;
  std::memcpy(plain_init.data(), client_long_pk_, 32);
  std::memcpy(plain_init.data() + 32, vouch_nonce + 8, 16);
  std::memcpy(plain_init.data() + 48, vouch, 80);
  std::size_t len = 128;
  len += addProperty(plain_init.data() + len, "Socket-Type", "DEALER");
  len += addProperty(plain_init.data() + len, "Identity", routing_id_);

  const std::size_t body_size = 9 + 96 + 8 + crypto_box_MACBYTES + len;
  out_.reserve(9 + body_size);
  std::uint8_t* f = out_.tail();
  f[0] = kFlagCommand | kFlagLong;  // always > 255 bytes
  putBe64(f + 1, body_size);
  std::uint8_t* init = f + 9;
  std::memcpy(init, "\x08INITIATE", 9);
  std::memcpy(init + 9, cookie, 96);
  putBe64(init + 105, nonce_out_);
  std::uint8_t init_nonce[24];
  std::memcpy(init_nonce, "CurveZMQINITIATE", 16);
  std::memcpy(init_nonce + 16, init + 105, 8);
  crypto_box_easy_afternm(init + 113, plain_init.data(), len, init_nonce, key_session_);
  ++nonce_out_;
  out_.end += 9 + body_size;

  // From here on only the session key is used.
  sodium_memzero(client_eph_sk_, sizeof client_eph_sk_);
  sodium_memzero(key_s_ceph_, sizeof key_s_ceph_);
  sodium_memzero(plain, sizeof plain);
  phase_ = Phase::kReadyCommand;
  return flush();
}

bool ZmtpCurveClient::handleReady(std::uint8_t* body, std::size_t size) {
  // "\x05READY" + short nonce + Box[metadata](S'->C')
  if (size < 6 + 8 + crypto_box_MACBYTES) {
    fail("READY too short");
    return false;
  }
  std::uint8_t nonce[24];
  std::memcpy(nonce, "CurveZMQREADY---", 16);
  std::memcpy(nonce + 16, body + 6, 8);
  std::uint8_t* meta = body + 6 + 8 + crypto_box_MACBYTES;
  const std::size_t meta_len = size - (6 + 8 + crypto_box_MACBYTES);
  if (crypto_box_open_detached_afternm(meta, meta, body + 14, meta_len, nonce, key_session_) !=
      0) {
    fail("READY does not decrypt");
    return false;
  }
  for (std::size_t i = 0; i < meta_len;) {
    const std::size_t name_len = meta[i];
    if (i + 1 + name_len + 4 > meta_len) {
      fail("malformed READY metadata");
      return false;
    }
    const std::string_view name(reinterpret_cast<const char*>(meta + i + 1), name_len);
    const std::size_t value_len = getBe32(meta + i + 1 + name_len);
    const std::size_t value_at = i + 1 + name_len + 4;
    if (value_len > meta_len - value_at) {
      fail("malformed READY metadata");
      return false;
    }
    const std::string_view value(reinterpret_cast<const char*>(meta + value_at), value_len);
    // The same peer check libzmq's DEALER makes (mechanism_t::check_socket_type).
    if (name == "Socket-Type" && value != "ROUTER" && value != "DEALER" && value != "REP") {
      fail("server socket type " + std::string(value) + " cannot talk to a DEALER");
      return false;
    }
    i = value_at + value_len;
  }
  peer_nonce_ = getBe64(body + 6);
  phase_ = Phase::kTraffic;
  state_ = State::kReady;
  return true;
}

bool ZmtpCurveClient::handleMessage(std::uint8_t* body, std::size_t size,
                                    const std::function<void(std::string_view)>& on_message) {
  if (size < kMessageOverhead || std::memcmp(body, "\x07MESSAGE", 8) != 0) {
    fail("expected an encrypted MESSAGE, got " +
         (size >= 1 && body[0] + 1u <= size ? printable(body + 1, body[0])
                                            : std::string("a malformed frame")));
    return false;
  }
  const std::uint64_t nonce_value = getBe64(body + 8);
  if (nonce_value <= peer_nonce_) {
    fail("server nonce " + std::to_string(nonce_value) + " does not increase (last " +
         std::to_string(peer_nonce_) + ")");
    return false;
  }
  std::uint8_t nonce[24];
  std::memcpy(nonce, "CurveZMQMESSAGES", 16);
  std::memcpy(nonce + 16, body + 8, 8);
  std::uint8_t* box = body + 16 + crypto_box_MACBYTES;
  const std::size_t box_len = size - 16 - crypto_box_MACBYTES;
  if (crypto_box_open_detached_afternm(box, box, body + 16, box_len, nonce, key_session_) != 0) {
    fail("MESSAGE does not decrypt/authenticate");
    return false;
  }
  peer_nonce_ = nonce_value;
  const std::uint8_t flags = box[0];
  const std::uint8_t* payload = box + 1;
  const std::size_t len = box_len - 1;

  if (flags & kBoxCommand) {
    if (len < 1 || std::size_t{payload[0]} + 1 > len) return true;  // libzmq ignores it too
    const std::string_view name(reinterpret_cast<const char*>(payload + 1), payload[0]);
    if (name == "PING" && len >= 7) {
      ++stats_.pings_in;
      // PONG echoes up to 16 bytes of the PING's context (after the 2-byte TTL).
      const std::size_t ctx_len = std::min<std::size_t>(len - 7, 16);
      sendEncrypted(kBoxCommand, std::string_view("\x04PONG", 5),
                    std::string_view(reinterpret_cast<const char*>(payload + 7), ctx_len));
    } else if (name == "PONG") {
      ++stats_.pongs_in;
    }
    return state_ != State::kFailed;
  }
  // The ROUTER strips the routing frame, so a DEALER's traffic is single-part; the callback has
  // no way to express parts, so a multi-part message is counted and dropped whole.
  if (in_multipart_ || (flags & kBoxMore)) {
    if (flags & kBoxMore) {
      in_multipart_ = true;
    } else {
      in_multipart_ = false;
      ++stats_.multipart_dropped;
    }
    return true;
  }
  ++stats_.messages_in;
  on_message(std::string_view(reinterpret_cast<const char*>(payload), len));
  return true;
}

bool ZmtpCurveClient::sendEncrypted(std::uint8_t flags, std::string_view a, std::string_view b) {
  if (fd_ < 0 || state_ != State::kReady) return false;
  const std::size_t plain_len = 1 + a.size() + b.size();
  const std::size_t body = kMessageOverhead - 1 + plain_len;
  const std::size_t header = body > 255 ? 9 : 2;
  const std::size_t total = header + body;
  const std::size_t pending = out_.size();
  if (pending > 0 && pending + total > options_.max_pending_out_bytes) return false;

  out_.reserve(total);
  std::uint8_t* f = out_.tail();
  // The ZMTP frame is a plain message frame: MORE/COMMAND live inside the box only.
  if (header == 2) {
    f[0] = 0;
    f[1] = static_cast<std::uint8_t>(body);
  } else {
    f[0] = kFlagLong;
    putBe64(f + 1, body);
  }
  std::uint8_t* m = f + header;
  std::memcpy(m, "\x07MESSAGE", 8);
  putBe64(m + 8, nonce_out_);
  std::uint8_t* box = m + 16 + crypto_box_MACBYTES;
  box[0] = flags;
  if (!a.empty()) std::memcpy(box + 1, a.data(), a.size());
  if (!b.empty()) std::memcpy(box + 1 + a.size(), b.data(), b.size());
  std::uint8_t nonce[24];
  std::memcpy(nonce, "CurveZMQMESSAGEC", 16);
  std::memcpy(nonce + 16, m + 8, 8);
  crypto_box_detached_afternm(box, m + 16, box, plain_len, nonce, key_session_);
  ++nonce_out_;
  out_.end += total;
  // With output already pending the socket was full a moment ago; poll() flushes on EPOLLOUT.
  if (pending == 0) return flush();
  return true;
}

bool ZmtpCurveClient::send(std::string_view message) {
  if (!sendEncrypted(0, message, {})) return false;
  ++stats_.messages_out;
  return true;
}

bool ZmtpCurveClient::sendPing() {
  // "\x04PING" + TTL 0 (libzmq's ZMQ_HEARTBEAT_TTL default), no context.
  return sendEncrypted(kBoxCommand, std::string_view("\x04PING\x00\x00", 7), {});
}

}  // namespace noa::bench
