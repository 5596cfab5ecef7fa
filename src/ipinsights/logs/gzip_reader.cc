#include "ipinsights/logs/gzip_reader.h"

#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <vector>

#include "ipinsights/base/error.h"

namespace ipinsights {
namespace {

struct DecompressorDeleter {
  void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
};

libdeflate_decompressor* ThreadDecompressor() {
  thread_local std::unique_ptr<libdeflate_decompressor, DecompressorDeleter> decompressor(
      libdeflate_alloc_decompressor());
  if (!decompressor) throw Error("libdeflate: out of memory");
  return decompressor.get();
}

bool AllZero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

}  // namespace

uint64_t GzipSizeHint(std::string_view compressed) {
  if (compressed.size() < 18) return 0;
  const auto* p = reinterpret_cast<const unsigned char*>(compressed.data() + compressed.size() - 4);
  return uint64_t{p[0]} | (uint64_t{p[1]} << 8) | (uint64_t{p[2]} << 16) | (uint64_t{p[3]} << 24);
}

GunzipResult GunzipWhole(std::string_view compressed, size_t max_output, PaddedBuffer* out) {
  GunzipResult result;
  out->clear();
  // ISIZE is exact for the common single-member file under 4 GiB; when it is implausibly
  // small (multi-member, wrapped, or a truncated file's random tail) start from a ratio.
  uint64_t hint = GzipSizeHint(compressed);
  if (hint < compressed.size() / 2) hint = uint64_t{compressed.size()} * 4 + 4096;
  out->Reserve(static_cast<size_t>(std::min<uint64_t>(hint, max_output)));

  libdeflate_decompressor* decompressor = ThreadDecompressor();
  size_t in_pos = 0;
  while (in_pos < compressed.size()) {
    std::string_view rest = compressed.substr(in_pos);
    if (!LooksGzipped(rest)) {
      if (AllZero(rest)) break;
      result.status = GunzipResult::Status::kCorrupt;  // trailing garbage
      return result;
    }
    for (;;) {
      size_t in_used = 0;
      size_t out_used = 0;
      libdeflate_result r = libdeflate_gzip_decompress_ex(
          decompressor, rest.data(), rest.size(), out->data() + out->size(),
          out->capacity() - out->size(), &in_used, &out_used);
      if (r == LIBDEFLATE_SUCCESS) {
        out->set_size(out->size() + out_used);
        in_pos += in_used;
        break;
      }
      if (r == LIBDEFLATE_INSUFFICIENT_SPACE) {
        if (out->capacity() >= max_output) {
          result.status = GunzipResult::Status::kTooLarge;
          return result;
        }
        out->Reserve(std::min<size_t>(max_output, std::max<size_t>(out->capacity() * 2, 1 << 16)));
        continue;  // libdeflate restarts the member
      }
      result.status = GunzipResult::Status::kCorrupt;
      return result;
    }
  }
  return result;
}

struct GzipStreamReader::State {
  z_stream zs{};
  bool initialised = false;
  bool in_member = false;  // inside a member whose end has not been seen
  std::vector<unsigned char> input = std::vector<unsigned char>(1 << 18);
};

GzipStreamReader::GzipStreamReader(std::unique_ptr<SequentialReader> source, std::string name)
    : state_(std::make_unique<State>()), source_(std::move(source)), name_(std::move(name)) {
  if (inflateInit2(&state_->zs, 16 + MAX_WBITS) != Z_OK) throw Error(name_ + ": zlib init failed");
  state_->initialised = true;
}

GzipStreamReader::~GzipStreamReader() {
  if (state_->initialised) inflateEnd(&state_->zs);
}

bool GzipStreamReader::Refill() {
  size_t got = source_->Read(reinterpret_cast<char*>(state_->input.data()), state_->input.size());
  if (got == 0) return false;
  compressed_total_ += got;
  state_->zs.next_in = state_->input.data();
  state_->zs.avail_in = static_cast<uInt>(got);
  return true;
}

size_t GzipStreamReader::Read(char* buffer, size_t n) {
  if (finished_ || n == 0) return 0;
  z_stream& zs = state_->zs;
  zs.next_out = reinterpret_cast<unsigned char*>(buffer);
  zs.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
  const uInt wanted = zs.avail_out;
  auto consumed_offset = [&] { return compressed_total_ - zs.avail_in; };
  while (zs.avail_out > 0) {
    if (zs.avail_in == 0 && !Refill()) {
      if (state_->in_member) {
        error_ = "truncated gzip data (the stream ends at compressed byte " +
                 std::to_string(compressed_total_) + " inside a member)";
      }
      finished_ = true;
      break;
    }
    if (!state_->in_member) {
      // At a member boundary: another member, zero padding, or garbage.
      if (zs.avail_in < 2 && consumed_offset() > 0) {
        // Need two bytes to see the magic; a lone trailing byte is garbage unless zero.
        unsigned char first = zs.next_in[0];
        zs.next_in += 1;
        zs.avail_in -= 1;
        if (zs.avail_in == 0 && !Refill()) {
          if (first != 0)
            error_ = "trailing garbage after gzip data at compressed byte " +
                     std::to_string(consumed_offset() - 1);
          finished_ = true;
          break;
        }
        if (!(first == 0x1f && zs.next_in[0] == 0x8b)) {
          if (first != 0) {
            error_ = "trailing garbage after gzip data at compressed byte " +
                     std::to_string(consumed_offset() - 1);
          }
          finished_ = true;
          break;
        }
        // Put the magic back by resetting with a fresh two-byte view is not possible in
        // place; feed the byte we took through a tiny side buffer.
        unsigned char magic[1] = {first};
        inflateReset(&zs);
        unsigned char* saved_next = zs.next_in;
        uInt saved_avail = zs.avail_in;
        zs.next_in = magic;
        zs.avail_in = 1;
        int ret = inflate(&zs, Z_NO_FLUSH);
        if (ret != Z_OK && ret != Z_BUF_ERROR) {
          error_ = "corrupt gzip data at compressed byte " + std::to_string(consumed_offset());
          corrupt_ = true;
          finished_ = true;
          break;
        }
        zs.next_in = saved_next;
        zs.avail_in = saved_avail;
        state_->in_member = true;
        continue;
      }
      if (consumed_offset() > 0) {
        if (!(zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b)) {
          if (zs.next_in[0] != 0) {
            error_ = "trailing garbage after gzip data at compressed byte " +
                     std::to_string(consumed_offset());
          }
          finished_ = true;
          break;
        }
        inflateReset(&zs);
      }
      state_->in_member = true;
    }
    int ret = inflate(&zs, Z_NO_FLUSH);
    if (ret == Z_STREAM_END) {
      state_->in_member = false;
      continue;
    }
    if (ret == Z_OK || ret == Z_BUF_ERROR) continue;
    error_ = "corrupt gzip data near compressed byte " + std::to_string(consumed_offset()) +
             (zs.msg ? std::string(" (") + zs.msg + ")" : std::string());
    corrupt_ = true;
    finished_ = true;
    break;
  }
  return wanted - zs.avail_out;
}

size_t MemoryReader::Read(char* buffer, size_t n) {
  size_t take = std::min(n, bytes_.size());
  std::memcpy(buffer, bytes_.data(), take);
  bytes_.remove_prefix(take);
  return take;
}

}  // namespace ipinsights
