// libarchive on first use: every archive_* function the snapshot and verify actions call,
// forwarded to libarchive.so.13 (see lazy_forward.h). A new archive_* call in the agent fails to
// link until it is added here.

#include <archive.h>
#include <archive_entry.h>

#include <cstdarg>
#include <cstdio>

#include "agent/lazy/lazy_forward.h"
#include "agent/lazy/lazy_libs.h"

namespace noa::agent::lazy {
namespace {
LazyLibrary& libarchive() {
  static LazyLibrary library("libarchive.so.13", "snapshots and verify", "libarchive13");
  return library;
}
}  // namespace

Status loadLibarchive() { return libarchive().load(); }

}  // namespace noa::agent::lazy

#define ARCHIVE_FORWARD(ret, name, params, args) \
  NOA_LAZY_FORWARD(noa::agent::lazy::libarchive(), ret, name, params, args)

// clang-format off
ARCHIVE_FORWARD(struct archive_entry*, archive_entry_clear, (struct archive_entry* entry), (entry))
ARCHIVE_FORWARD(void, archive_entry_copy_pathname, (struct archive_entry* entry, const char* path), (entry, path))
ARCHIVE_FORWARD(__LA_MODE_T, archive_entry_filetype, (struct archive_entry* entry), (entry))
ARCHIVE_FORWARD(void, archive_entry_free, (struct archive_entry* entry), (entry))
ARCHIVE_FORWARD(void, archive_entry_linkify, (struct archive_entry_linkresolver* resolver, struct archive_entry** entry, struct archive_entry** spare), (resolver, entry, spare))
ARCHIVE_FORWARD(void, archive_entry_linkresolver_free, (struct archive_entry_linkresolver* resolver), (resolver))
ARCHIVE_FORWARD(struct archive_entry_linkresolver*, archive_entry_linkresolver_new, (void), ())
ARCHIVE_FORWARD(void, archive_entry_linkresolver_set_strategy, (struct archive_entry_linkresolver* resolver, int format), (resolver, format))
ARCHIVE_FORWARD(struct archive_entry*, archive_entry_new, (void), ())
ARCHIVE_FORWARD(const char*, archive_entry_pathname, (struct archive_entry* entry), (entry))
ARCHIVE_FORWARD(la_int64_t, archive_entry_size, (struct archive_entry* entry), (entry))
ARCHIVE_FORWARD(const char*, archive_error_string, (struct archive* a), (a))
ARCHIVE_FORWARD(la_int64_t, archive_filter_bytes, (struct archive* a, int filter), (a, filter))
ARCHIVE_FORWARD(int, archive_format, (struct archive* a), (a))
ARCHIVE_FORWARD(la_ssize_t, archive_read_data, (struct archive* a, void* data, size_t size), (a, data, size))
ARCHIVE_FORWARD(int, archive_read_data_block, (struct archive* a, const void** buff, size_t* size, la_int64_t* offset), (a, buff, size, offset))
ARCHIVE_FORWARD(int, archive_read_disk_descend, (struct archive* a), (a))
ARCHIVE_FORWARD(struct archive*, archive_read_disk_new, (void), ())
ARCHIVE_FORWARD(int, archive_read_disk_open, (struct archive* a, const char* path), (a, path))
ARCHIVE_FORWARD(int, archive_read_disk_set_standard_lookup, (struct archive* a), (a))
ARCHIVE_FORWARD(int, archive_read_disk_set_symlink_physical, (struct archive* a), (a))
ARCHIVE_FORWARD(int, archive_read_free, (struct archive* a), (a))
ARCHIVE_FORWARD(struct archive*, archive_read_new, (void), ())
ARCHIVE_FORWARD(int, archive_read_next_header, (struct archive* a, struct archive_entry** entry), (a, entry))
ARCHIVE_FORWARD(int, archive_read_next_header2, (struct archive* a, struct archive_entry* entry), (a, entry))
ARCHIVE_FORWARD(int, archive_read_open_filename, (struct archive* a, const char* filename, size_t block_size), (a, filename, block_size))
ARCHIVE_FORWARD(int, archive_read_support_filter_zstd, (struct archive* a), (a))
ARCHIVE_FORWARD(int, archive_read_support_format_tar, (struct archive* a), (a))
ARCHIVE_FORWARD(const char*, archive_version_string, (void), ())
ARCHIVE_FORWARD(int, archive_write_add_filter_zstd, (struct archive* a), (a))
ARCHIVE_FORWARD(int, archive_write_close, (struct archive* a), (a))
ARCHIVE_FORWARD(la_ssize_t, archive_write_data, (struct archive* a, const void* buffer, size_t size), (a, buffer, size))
ARCHIVE_FORWARD(la_ssize_t, archive_write_data_block, (struct archive* a, const void* buffer, size_t size, la_int64_t offset), (a, buffer, size, offset))
ARCHIVE_FORWARD(struct archive*, archive_write_disk_new, (void), ())
ARCHIVE_FORWARD(int, archive_write_disk_set_options, (struct archive* a, int flags), (a, flags))
ARCHIVE_FORWARD(int, archive_write_disk_set_standard_lookup, (struct archive* a), (a))
ARCHIVE_FORWARD(int, archive_write_finish_entry, (struct archive* a), (a))
ARCHIVE_FORWARD(int, archive_write_free, (struct archive* a), (a))
ARCHIVE_FORWARD(int, archive_write_header, (struct archive* a, struct archive_entry* entry), (a, entry))
ARCHIVE_FORWARD(struct archive*, archive_write_new, (void), ())
ARCHIVE_FORWARD(int, archive_write_open2, (struct archive* a, void* data, archive_open_callback* on_open, archive_write_callback* on_write, archive_close_callback* on_close, archive_free_callback* on_free), (a, data, on_open, on_write, on_close, on_free))
ARCHIVE_FORWARD(int, archive_write_set_bytes_in_last_block, (struct archive* a, int bytes_in_last_block), (a, bytes_in_last_block))
ARCHIVE_FORWARD(int, archive_write_set_filter_option, (struct archive* a, const char* m, const char* o, const char* v), (a, m, o, v))
ARCHIVE_FORWARD(int, archive_write_set_format_pax_restricted, (struct archive* a), (a))
// clang-format on

// Variadic, so it cannot be forwarded as is: format here (libarchive keeps only the text
// anyway) and hand the real one "%s". 1 KiB is far more than the callers' messages need.
extern "C" void archive_set_error(struct archive* a, int err, const char* fmt, ...) {
  static const auto real = reinterpret_cast<decltype(&::archive_set_error)>(
      noa::agent::lazy::libarchive().symbol("archive_set_error"));
  char message[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  real(a, err, "%s", message);
}
