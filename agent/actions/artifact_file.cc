#include "agent/actions/artifact_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "agent/lazy/lazy_libs.h"

namespace noa::agent::actions {
namespace {

Status errnoStatus(std::string_view what, const std::string& path, int err) {
  std::string msg = std::string(what) + " '" + path + "': " + std::strerror(err);
  if (err == ENOSPC || err == EDQUOT) return Status::ResourceExhausted(msg);
  if (err == EEXIST) return Status::AlreadyExists(msg);
  if (err == ENOENT) return Status::NotFound(msg);
  if (err == EACCES || err == EPERM) return Status::PermissionDenied(msg);
  return Status::IoError(msg);
}

std::string parentDir(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  impl_->ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr);
}

Sha256::~Sha256() { EVP_MD_CTX_free(impl_->ctx); }

void Sha256::update(const void* data, size_t size) { EVP_DigestUpdate(impl_->ctx, data, size); }

std::string Sha256::finishHex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(impl_->ctx, digest, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

Result<std::unique_ptr<ArtifactWriter>> ArtifactWriter::create(const std::string& final_path) {
  // Sha256 calls libcrypto, opened on first use (agent/lazy): check here, where it can fail.
  NOA_RETURN_IF_ERROR(lazy::loadLibcrypto());
  if (final_path.empty() || final_path.back() == '/') {
    return Status::InvalidArgument("artifact path '" + final_path + "' is not a file name");
  }
  struct stat st;
  if (::lstat(final_path.c_str(), &st) == 0) {
    return Status::AlreadyExists("artifact '" + final_path + "' already exists; not replacing it");
  }
  std::string partial = final_path + std::string(kPartialSuffix);
  int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return errnoStatus("create", partial, errno);
  return std::unique_ptr<ArtifactWriter>(new ArtifactWriter(final_path, std::move(partial), fd));
}

ArtifactWriter::ArtifactWriter(std::string final_path, std::string partial_path, int fd)
    : final_path_(std::move(final_path)), partial_path_(std::move(partial_path)), fd_(fd) {}

ArtifactWriter::~ArtifactWriter() { abort(); }

Status ArtifactWriter::fail(Status status) {
  failed_ = true;
  abort();
  return status;
}

Status ArtifactWriter::write(const void* data, size_t size) {
  if (committed_ || failed_ || fd_ < 0) {
    return Status::FailedPrecondition("artifact '" + partial_path_ + "' is no longer writable");
  }
  const char* p = static_cast<const char*>(data);
  size_t left = size;
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errnoStatus("write", partial_path_, errno));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  hash_.update(data, size);
  bytes_ += size;
  return Status::Ok();
}

Status ArtifactWriter::commit() {
  if (committed_) return Status::Ok();
  if (failed_ || fd_ < 0) {
    return Status::FailedPrecondition("artifact '" + partial_path_ + "' was aborted");
  }
  if (::fsync(fd_) != 0) return fail(errnoStatus("fsync", partial_path_, errno));
  // close() can report a deferred write error (NFS, some FUSE filesystems).
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) return fail(errnoStatus("close", partial_path_, errno));
  // link+unlink would refuse an existing target atomically, but not every filesystem has hard
  // links; create() already refused an existing final name and the partial is ours (O_EXCL).
  if (::rename(partial_path_.c_str(), final_path_.c_str()) != 0) {
    return fail(errnoStatus("rename to '" + final_path_ + "'", partial_path_, errno));
  }
  committed_ = true;
  sha256_ = hash_.finishHex();
  Status dir_status = fsyncDir(parentDir(final_path_));
  if (!dir_status.ok()) {
    // The data is complete but its name may not survive a crash: do not claim success.
    ::unlink(final_path_.c_str());
    committed_ = false;
    failed_ = true;
    return dir_status;
  }
  return Status::Ok();
}

void ArtifactWriter::abort() {
  if (committed_) return;
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
    ::unlink(partial_path_.c_str());
  } else if (failed_) {
    ::unlink(partial_path_.c_str());  // idempotent: ENOENT after the first call
  }
  failed_ = true;
}

Result<std::string> sha256OfFile(const std::string& path) {
  NOA_RETURN_IF_ERROR(lazy::loadLibcrypto());  // as in ArtifactWriter::create
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errnoStatus("open", path, errno);
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  Sha256 hash;
  std::vector<char> buf(1 << 20);
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      return errnoStatus("read", path, err);
    }
    if (n == 0) break;
    hash.update(buf.data(), static_cast<size_t>(n));
  }
  ::close(fd);
  return hash.finishHex();
}

Status writeJsonAtomically(const std::string& path, const nlohmann::json& value) {
  NOA_ASSIGN_OR_RETURN(auto writer, ArtifactWriter::create(path));
  NOA_RETURN_IF_ERROR(writer->write(value.dump(2) + "\n"));
  return writer->commit();
}

Result<uint64_t> freeBytes(const std::string& dir) {
  struct statvfs vfs;
  if (::statvfs(dir.c_str(), &vfs) != 0) return errnoStatus("statvfs", dir, errno);
  return static_cast<uint64_t>(vfs.f_bavail) * static_cast<uint64_t>(vfs.f_frsize);
}

Result<int> removeStalePartials(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return errnoStatus("opendir", dir, errno);
  int removed = 0;
  Status first_error;
  while (dirent* e = ::readdir(d)) {
    std::string_view name(e->d_name);
    if (!endsWith(name, kPartialSuffix) || name == kPartialSuffix) continue;
    struct stat st;
    if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
      continue;
    }
    if (::unlinkat(::dirfd(d), e->d_name, 0) == 0) {
      ++removed;
    } else if (first_error.ok()) {
      first_error = errnoStatus("unlink", dir + "/" + std::string(name), errno);
    }
  }
  ::closedir(d);
  if (!first_error.ok()) return first_error;
  if (removed > 0) NOA_RETURN_IF_ERROR(fsyncDir(dir));
  return removed;
}

Status fsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errnoStatus("open directory", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return errnoStatus("fsync directory", dir, err);
  return Status::Ok();
}

}  // namespace noa::agent::actions
